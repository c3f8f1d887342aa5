#!/usr/bin/env bash
# Installs the system packages the build and the tests need (Debian): libseccomp-dev, found
# through pkg-config; libcap2-bin for setcap/getcap (the tests install a file-capability copy of
# allthreads to show that it refuses to run; install.sh checks that no capability was set).
# setpriv, which the tests use to run as nobody, is in util-linux (always installed).
set -euo pipefail
packages=()
pkg-config --exists libseccomp 2>/dev/null || packages+=(libseccomp-dev pkg-config)
command -v setcap >/dev/null && command -v getcap >/dev/null || packages+=(libcap2-bin)
# ShellCheck, with which scripts/test.sh checks every script of scripts/.
command -v shellcheck >/dev/null || packages+=(shellcheck)
# SPIN for scripts/model-check.sh; it runs gcc as its preprocessor and to build its verifiers.
command -v spin >/dev/null && command -v gcc >/dev/null || packages+=(spin gcc)
# Prometheus's node exporter, whose textfile collector AuditTests points at the file
# `inspect --all --prometheus` writes, then reads the metrics back from its /metrics (the test
# runs its own exporter on a free loopback port). Without its recommended collector scripts and
# smartmontools, which the test does not use; under systemd the package also starts its own
# service on port 9100.
without_recommends=()
[ -x /usr/bin/prometheus-node-exporter ] || without_recommends+=(prometheus-node-exporter)
if ((${#packages[@]} + ${#without_recommends[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    if ((${#packages[@]})); then
        apt-get install -y -qq "${packages[@]}" >/dev/null
    fi
    if ((${#without_recommends[@]})); then
        apt-get install -y -qq --no-install-recommends "${without_recommends[@]}" >/dev/null
    fi
fi
