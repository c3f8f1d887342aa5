#!/usr/bin/env bash
# Installs the system packages the build and the tests need (Debian): libseccomp-dev, found
# through pkg-config; libcap2-bin for setcap/getcap (the tests install a file-capability copy of
# allthreads to show that it refuses to run; install.sh checks that no capability was set).
# setpriv, which the tests use to run as nobody, is in util-linux (always installed).
set -euo pipefail
packages=()
pkg-config --exists libseccomp 2>/dev/null || packages+=(libseccomp-dev pkg-config)
command -v setcap >/dev/null && command -v getcap >/dev/null || packages+=(libcap2-bin)
if ((${#packages[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${packages[@]}" >/dev/null
fi
# SPIN for scripts/model-check.sh; it runs gcc as its preprocessor and to build its verifiers.
if ! command -v spin >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1; then export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq spin gcc >/dev/null; fi
