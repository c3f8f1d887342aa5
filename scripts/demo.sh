#!/usr/bin/env bash
# The main job: one process starts 200 extra threads of every kind (pthreads started from C
# and from Swift, Dispatch queues, concurrentPerform, a TaskGroup), drops root on every one of them
# (groups, gid, bounding set, uid, no_new_privs), proves on every thread through /proc that
# the drop holds and that setuid(0) fails, then runs a command as the dropped user.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product allthreads
# shellcheck disable=SC2016  # $(id -u) is for the inner sh, run as the dropped user
.build/release/allthreads drop --user nobody --no-new-privs --threads 200 --verify \
    -- sh -c 'echo "exec as uid $(id -u):"; grep -E "^(Uid|Gid|Groups|CapEff|NoNewPrivs):" /proc/self/status'
