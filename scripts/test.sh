#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: installs what it needs, builds, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build --build-tests
swift test --disable-swift-testing
