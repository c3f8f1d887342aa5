#!/usr/bin/env bash
# The latency benchmark: our broadcast (strict and relaxed) against glibc's own
# setresuid broadcast, same process, same idle threads, alternated; release build of
# Benchmarks/allthreads-bench (a target of this package, not a product: nothing installs it).
# Writes bench-results/bench.json and bench-results/bench.svg and prints the table.
#   scripts/bench.sh            full run (N = 0,1,16,128,1024,4096 x pause,futex, plus 10,000), a few minutes
#   scripts/bench.sh --quick    fewer repetitions
#   scripts/bench.sh OPTION...  any option of allthreads-bench (its --help lists them), such as
#                               --sizes 16,128 --idle futex --big 0 --drop-sizes '' --contention-iterations 0
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product allthreads-bench
mkdir -p bench-results
# allthreads-bench takes the first value of an option: the JSON file, ahead of the caller's
# options, is always the one plotted; the 10,000 threads after them give way to a --big of theirs.
.build/release/allthreads-bench --json bench-results/bench.json "$@" --big 10000 | tee bench-results/bench.txt
python3 scripts/plot_bench.py bench-results/bench.json bench-results/bench.svg
echo "wrote bench-results/bench.json, bench.txt and bench.svg"
