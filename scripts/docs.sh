#!/usr/bin/env bash
# Builds the DocC documentation of the AllThreads library (the catalog in
# Sources/AllThreads/AllThreads.docc and every public doc comment) with swift-docc-plugin, and
# fails on any warning: DocC's own (--warnings-as-errors: an unresolved ``symbol`` link, a topic
# that names nothing) and any other `warning:` line of the run.
# The archive is written to .build/plugins/Swift-DocC/outputs/AllThreads.doccarchive (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift package generate-documentation --target AllThreads --warnings-as-errors 2>&1 | tee "$log" || status=$?
if ((status != 0)); then
    echo "docs: the documentation did not build (status $status)" >&2
    exit "$status"
fi
if grep -q 'warning:' "$log"; then
    echo "docs: the documentation build printed warnings:" >&2
    grep 'warning:' "$log" >&2
    exit 1
fi
# The public module holds what an app needs: nothing that serves only the command line, and no
# test seam (another /proc root, the engine's counters, parsing a thread's text).
pages=.build/plugins/Swift-DocC/outputs/AllThreads.doccarchive/data/documentation/allthreads
cli_only='^(threadchange|changerecord|execcommand|secureexecution)(/|\.json$)|^systemcall/init\(parsing:\)|/list\(parsing:\)|/init\(timeoutseconds:|/encode\(to:\)|^enginestatistics(/|\.json$)|procroot:|/apply\(stat:\)|/init\(tid:status:\)'
leaked=$(cd "$pages" && { find . -name '*.json' | sed 's|^\./||' | grep -Ei "$cli_only" || true; })
if [ -n "$leaked" ]; then
    echo "docs: import AllThreads shows what only the command line or a test needs:" >&2
    echo "$leaked" >&2
    exit 1
fi
echo "docs: built with no warnings; the public API holds no CLI-only symbol and no test seam"
