#!/usr/bin/env bash
# The torture matrix: churn, scale (10,000 threads), reachability faults, interference,
# odd tasks and mismatches, each scenario in its own process with a deadline.
#   scripts/torture.sh          bounded (what CI runs)
#   scripts/torture.sh --full   1,000 rounds everywhere
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build --product allthreads-scenarios
full=0
if [ "${1:-}" = "--full" ]; then full=1; fi
.build/debug/allthreads-scenarios torture --full "$full"
