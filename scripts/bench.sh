#!/usr/bin/env bash
# The latency benchmark: our broadcast (strict and relaxed) against glibc's own
# setresuid broadcast, same process, same idle threads, alternated; release build.
# Writes bench-results/bench.json and bench-results/bench.svg and prints the table.
#   scripts/bench.sh            full run (N = 0,1,16,128,1024,4096 x pause,futex, plus 10,000), a few minutes
#   scripts/bench.sh --quick    fewer repetitions
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product allthreads-bench
mkdir -p bench-results
.build/release/allthreads-bench --big 10000 --json bench-results/bench.json "$@" | tee bench-results/bench.txt
python3 scripts/plot_bench.py bench-results/bench.json bench-results/bench.svg
echo "wrote bench-results/bench.json, bench.txt and bench.svg"
