#!/usr/bin/env bash
# Runs the example server end to end, as root: builds Examples/DropRootServer, starts it on a
# free privileged loopback port with a static folder, waits until it has dropped root and
# sandboxed itself, sends requests over loopback until every event loop thread has answered
# each kind, checks that every answer and every thread of the server in /proc show uid and gid
# 65534, no capabilities, no_new_privs and a seccomp filter; that a static file is served; and
# that on every event loop (and on a blocking-pool and a handler thread) reading /etc/passwd and
# connecting to a port other than the granted one fail with EACCES and starting a program with
# EPERM, while the static file opens and the granted port connects. Then it stops the server.
#   scripts/example-server.sh [port]     one summary line; exit 0 on PASS, 1 on FAIL
set -euo pipefail
cd "$(dirname "$0")/.."

readonly PACKAGE=Examples/DropRootServer
readonly NOBODY=65534
# Deadlines (seconds). A first build takes 1.5 to 4.5 minutes on 2 cores, slower machines up to 3 times that.
readonly BUILD_SECONDS=1200
readonly STARTUP_SECONDS=60     # from start until the server reports the drop
readonly SERVER_SECONDS=300     # the server's whole life: `timeout` kills it after this, whatever happens
readonly REQUEST_SECONDS=5      # one request
readonly STOP_SECONDS=10        # from SIGTERM until SIGKILL
# Each request opens a new connection, and NIO hands new connections to its event loops in
# turn, so a few requests reach them all; the bound only stops a broken server from looping.
readonly MAX_REQUESTS=2000

log=""; runner=""; pid=""; static=""
fail() {
    echo "example-server: $*: FAIL"
    if [ -n "$log" ] && [ -s "$log" ]; then echo "-- server log:"; tail -n 20 "$log"; fi
    exit 1
}
alive() { [ -n "$pid" ] && [ -d "/proc/$pid" ]; }
cleanup() {
    if alive; then kill -KILL "$pid" 2>/dev/null || true; fi
    # `timeout` passes SIGTERM on to the server, sends SIGKILL 5 s later, and reaps it.
    if [ -n "$runner" ]; then kill -TERM "$runner" 2>/dev/null || true; wait "$runner" 2>/dev/null || true; fi
    if [ -n "$log" ]; then rm -f "$log"; fi
    if [ -n "$static" ]; then rm -rf "$static"; fi
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "must run as root: the server binds a privileged port and drops root"

# --- dependencies and build
bash scripts/deps.sh
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
build_log=$(mktemp)
started=$SECONDS
if ! timeout "$BUILD_SECONDS" swift build --package-path "$PACKAGE" >"$build_log" 2>&1; then
    tail -n 30 "$build_log"; rm -f "$build_log"
    fail "swift build failed or took longer than ${BUILD_SECONDS}s"
fi
rm -f "$build_log"
echo "example-server: built in $((SECONDS - started))s"
binary="$(swift build --package-path "$PACKAGE" --show-bin-path)/DropRootServer"

# --- a free privileged port: the argument, or the first port from 81 up that nothing listens on
listening=" $(awk 'FNR > 1 && $4 == "0A" { split($2, local, ":"); print local[2] }' /proc/net/tcp /proc/net/tcp6 |
    while read -r hex; do printf '%d ' "0x$hex"; done)"
port="${1:-}"
if [ -z "$port" ]; then
    for candidate in $(seq 81 1023); do
        case "$listening" in *" $candidate "*) ;; *) port=$candidate; break ;; esac
    done
fi
[ -n "$port" ] || fail "no free privileged port"
# The one port the sandbox lets the server connect to (a database's, say), and the next one,
# which it does not: both free, so that the granted one answers ECONNREFUSED and the other EACCES.
connect_port=""
for candidate in $(seq 20000 20999); do
    case "$listening" in *" $candidate "* | *" $((candidate + 1)) "*) ;; *) connect_port=$candidate; break ;; esac
done
[ -n "$connect_port" ] || fail "no two free ports from 20000 to 21000"

# --- the static folder: readable by nobody (mktemp -d makes it 0700)
static=$(mktemp -d /tmp/example-server-static.XXXXXX)
chmod 755 "$static"
readonly MARKER="served from the read-only static folder"
echo "$MARKER" >"$static/index.html"
chmod 644 "$static/index.html"

# --- start as root, wait for the drop
log=$(mktemp)
timeout --kill-after=5 "$SERVER_SECONDS" "$binary" "$port" "$static" "$connect_port" >"$log" 2>&1 &
runner=$!
for ((tick = 0; tick < STARTUP_SECONDS * 10; tick++)); do
    if grep -q "dropped to nobody on every thread" "$log"; then break; fi
    kill -0 "$runner" 2>/dev/null || fail "the server exited before it dropped root"
    sleep 0.1
done
line=$(grep "dropped to nobody on every thread" "$log") || fail "no drop reported within ${STARTUP_SECONDS}s"
pid=$(sed -n 's/.*pid \([0-9][0-9]*\): dropped.*/\1/p' <<<"$line")
# The server is the child of `timeout` (field 4 of stat: the parent pid; its name has no spaces).
if [ -z "$pid" ] || [ "$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)" != "$runner" ]; then
    fail "the reported pid '$pid' is not the server started here"
fi
port_hex=$(printf '%04X' "$port")
grep -q "^ *[0-9]*: 0100007F:$port_hex 00000000:0000 0A " /proc/net/tcp ||
    fail "the server does not listen on 127.0.0.1:$port"

# --- the event loop threads, as the kernel names them: NIO-ELT-… (a group of the app's own)
# or NIO-SGLTN-… (NIO's singleton group, which Hummingbird uses by default)
event_loops=" "
for task in /proc/"$pid"/task/*; do
    case "$(cat "$task/comm" 2>/dev/null)" in NIO-ELT-* | NIO-SGLTN-*) event_loops+="${task##*/} " ;; esac
done
[ "$event_loops" != " " ] || fail "the server has no NIO-ELT-* or NIO-SGLTN-* thread"
loop_count=$(wc -w <<<"$event_loops")

# --- requests over loopback until every event loop has answered
# shellcheck disable=SC2016  # $pid and $nobody are jq variables
verdict='
    def dropped: .pid == $pid
        and .uid == [$nobody, $nobody, $nobody, $nobody] and .gid == [$nobody, $nobody, $nobody, $nobody]
        and all(.groups[]; . != 0)
        and (.capEff | test("^0+$")) and (.capPrm | test("^0+$")) and .noNewPrivs == 1;
    [.eventLoop, .blockingPool, .handler] as $views
    | if all($views[]; dropped) then "ok \(.eventLoop.tid)"
      else "not dropped: \([$views[] | select(dropped | not) | "tid \(.tid) (\(.name)): uid \(.uid) gid \(.gid) groups \(.groups) CapEff \(.capEff) CapPrm \(.capPrm) NoNewPrivs \(.noNewPrivs)"] | join("; "))"
      end'
# every_event_loop PATH JQ_PROGRAM: GET PATH, one connection each, until every event loop has
# answered; each answer must make JQ_PROGRAM print "ok TID" with TID an event loop's. Sets
# $requests to the number of requests it took.
every_event_loop() {
    local path=$1 program=$2 answered=" " body result tid
    requests=0
    while [ "$requests" -lt "$MAX_REQUESTS" ]; do
        requests=$((requests + 1))
        body=$(curl --silent --show-error --fail --noproxy '*' --max-time "$REQUEST_SECONDS" \
            --header 'Connection: close' "http://127.0.0.1:$port$path") || fail "GET $path $requests failed"
        result=$(jq -r --argjson pid "$pid" --argjson nobody "$NOBODY" "$program" <<<"$body") ||
            fail "GET $path $requests: not the expected JSON: $body"
        case "$result" in ok\ *) ;; *) fail "GET $path $requests: $result" ;; esac
        tid=${result#ok }
        case "$event_loops" in *" $tid "*) ;; *) fail "GET $path $requests: answered on tid $tid, not an event loop thread" ;; esac
        case "$answered" in *" $tid "*) ;; *) answered+="$tid " ;; esac
        [ "$(wc -w <<<"$answered")" -lt "$loop_count" ] || return 0
    done
    fail "only $(wc -w <<<"$answered") of $loop_count event loops answered GET $path in $requests requests"
}
every_event_loop /whoami "$verdict"
answered_count=$loop_count whoami_requests=$requests

# --- a normal request works under the sandbox
served=$(curl --silent --show-error --fail --noproxy '*' --max-time "$REQUEST_SECONDS" \
    --header 'Connection: close' "http://127.0.0.1:$port/static/index.html") || fail "GET /static/index.html failed"
[ "$served" = "$MARKER" ] || fail "GET /static/index.html answered '$served'"

# --- the sandbox on every event loop: each thread tries to read /etc/passwd, connect to the
# granted port and to another, start a program, open the static file (errno 13 EACCES, 1 EPERM,
# 111 ECONNREFUSED: through the sandbox to TCP, where nothing listens)
# shellcheck disable=SC2016  # jq variables
sandboxed='
    def contained: .thread.pid == $pid and .staticFile == 0 and .passwd == 13 and (.grantedPort == 111 or .grantedPort == 0)
        and .otherPort == 13 and .exec == 1;
    [.eventLoop, .blockingPool, .handler] as $probes
    | if all($probes[]; contained) then "ok \(.eventLoop.thread.tid)"
      else "not sandboxed: \([$probes[] | select(contained | not) | "tid \(.thread.tid) (\(.thread.name)): static file \(.staticFile), /etc/passwd \(.passwd), granted port \(.grantedPort), other port \(.otherPort), exec \(.exec)"] | join("; "))"
      end'
every_event_loop /probe "$sandboxed"

# --- every thread of the server, as /proc shows it
threads=0
for task in /proc/"$pid"/task/*; do
    status=$(cat "$task/status" 2>/dev/null) || fail "thread ${task##*/} could not be read"
    problem=$(awk -v nobody="$NOBODY" '
        function all_nobody() { return $2 == nobody && $3 == nobody && $4 == nobody && $5 == nobody }
        /^Uid:/ { if (!all_nobody()) bad = bad " uid " $2 "/" $3 "/" $4 "/" $5 }
        /^Gid:/ { if (!all_nobody()) bad = bad " gid " $2 "/" $3 "/" $4 "/" $5 }
        /^Groups:/ { for (i = 2; i <= NF; i++) if ($i == 0) bad = bad " group 0" }
        /^Cap(Eff|Prm|Amb):/ { if ($2 !~ /^0+$/) bad = bad " " $1 " " $2 }
        /^NoNewPrivs:/ { nnp = $2 }
        /^Seccomp:/ { seccomp = $2 }
        END { if (nnp != 1) bad = bad " NoNewPrivs " nnp; if (seccomp != 2) bad = bad " Seccomp " seccomp; print bad }' <<<"$status")
    [ -z "$problem" ] || fail "thread ${task##*/} ($(cat "$task/comm" 2>/dev/null)) is not dropped:$problem"
    threads=$((threads + 1))
done

# --- stop: SIGTERM, then SIGKILL after a bounded wait
kill -TERM "$pid"
for ((tick = 0; tick < STOP_SECONDS * 10; tick++)); do alive || break; sleep 0.1; done
if alive; then
    kill -KILL "$pid"
    fail "the server did not stop within ${STOP_SECONDS}s of SIGTERM (killed)"
fi
status=0; wait "$runner" || status=$?
runner=""
[ "$status" -eq 0 ] || fail "the server exited with status $status after SIGTERM"

echo "example-server: $answered_count event loops answered in $whoami_requests requests and were probed in $requests, $threads threads dropped and sandboxed (/etc/passwd EACCES, other port EACCES, exec EPERM; static file opens, granted port reaches TCP): PASS"
