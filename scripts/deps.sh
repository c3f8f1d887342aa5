#!/usr/bin/env bash
# Installs the system packages the build needs (Debian): libseccomp-dev, found through pkg-config.
set -euo pipefail
if ! pkg-config --exists libseccomp 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq libseccomp-dev pkg-config >/dev/null
fi
# SPIN for scripts/model-check.sh; it runs gcc as its preprocessor and to build its verifiers.
if ! command -v spin >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1; then export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq spin gcc >/dev/null; fi
