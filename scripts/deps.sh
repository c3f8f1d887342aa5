#!/usr/bin/env bash
# Installs the system packages the build needs (Debian): libseccomp-dev, found through pkg-config.
set -euo pipefail
if ! pkg-config --exists libseccomp 2>/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq libseccomp-dev pkg-config >/dev/null
fi
