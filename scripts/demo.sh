#!/usr/bin/env bash
# The main job: one process with 200 extra threads of every kind (pthreads, Foundation
# Threads, Dispatch queues, concurrentPerform, a TaskGroup) drops to uid 65534 on every
# thread with one broadcast, and /proc proves that each thread changed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product allthreads
.build/release/allthreads syscall setresuid 65534 65534 65534 --threads 200 --verify
