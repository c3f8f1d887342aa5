#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: installs what it needs, builds, runs every
# test (the bounded torture matrix and the kernel matrix included) and the example server, then
# runs the suite again under ThreadSanitizer and AddressSanitizer (each in its own build folder).
#   scripts/test.sh              everything (about 20 minutes on 2 cores)
#   scripts/test.sh --no-sanitizers
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# Every script, with every check shellcheck has (a finding not worth fixing is disabled in place, with why).
shellcheck scripts/*.sh
# Every Swift file but the snippets (they match the documents' text word for word), formatted as
# .swift-format says; --strict makes any finding fail.
swift format lint --strict --recursive Sources Tests Benchmarks Examples/DropRootServer/Sources
swift build --build-tests
# The DocC documentation, with no warning (reuses the debug build).
bash scripts/docs.sh
swift test --disable-swift-testing
# install.sh into a temporary prefix (the man page and completions too): it runs SwiftPM, which
# waits for the lock `swift test` holds, so it runs here rather than from a test case.
bash scripts/test-install.sh
# README's "Add AllThreads to your package", followed in a fresh temporary package (a path
# dependency on this checkout): it builds with no warning and, run as root, drops.
bash scripts/test-adopt.sh
# The benchmark plot keeps every label inside the picture.
python3 scripts/plot_bench.py --check docs/bench.json scripts/testdata/bench-with-drops.json
# The protocol's SPIN model: every property, and every mutation caught (about 2 minutes).
bash scripts/model-check.sh
# The engine's C tests on Debian 12's Linux 6.1 (x86_64 and arm64, in qemu VMs) and on this kernel.
bash scripts/kernel-matrix.sh
# The example server (a separate package): drops root on every thread of a Hummingbird server.
bash scripts/example-server.sh
if [ "${1:-}" = "--no-sanitizers" ]; then exit 0; fi
# LeakSanitizer is off: it suspends threads with ptrace at exit, which fails once a
# scenario has dropped root, set no_new_privs or entered a Landlock domain.
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# The torture matrix is left to the plain run: under a sanitizer it is too slow for CI.
for sanitizer in thread address; do
    echo "== the suite under --sanitize=$sanitizer"
    swift build --build-tests --sanitize="$sanitizer" --scratch-path ".build-$sanitizer"
    ALLTHREADS_SANITIZER="$sanitizer" swift test --disable-swift-testing --sanitize="$sanitizer" \
        --scratch-path ".build-$sanitizer" --skip TortureTests
done
