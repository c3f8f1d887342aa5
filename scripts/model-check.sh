#!/usr/bin/env bash
# Model-checks the broadcast protocol with SPIN: Sources/CBroadcast/model/broadcast.pml
# (README.md next to it says what is modelled, what is proven and what is assumed).
# Every property is checked exhaustively in strict and relaxed mode, in two scenarios;
# every mutation (a known bug put back) must be caught with a counterexample, so a model
# that checks nothing cannot pass. Prints one line per property and mutation, and exits
# non-zero on any unexpected outcome.
#   scripts/model-check.sh          everything (about 2.5 minutes on 2 idle cores)
#   scripts/model-check.sh --keep   also keep the work directory (pan sources, trails)
set -euo pipefail
cd "$(dirname "$0")/.."
model=$PWD/Sources/CBroadcast/model/broadcast.pml
keep=${1:-}
if ! command -v spin >/dev/null 2>&1 || ! command -v gcc >/dev/null 2>&1; then bash scripts/deps.sh; fi

work=$(mktemp -d)
cleanup() { if [ "$keep" = --keep ] || [ -f "$work/unexpected" ]; then echo "work directory: $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

# What each scenario's threads are (by its flags).
declare -A scenario=(
  [churn]="caller+3 targets+1 cloned+1 exiting+io worker"
  ["-DGENS"]="2 broadcasters+2 targets, 2 generations"
  ["-DGENS -DDIE"]="2 broadcasters+2 targets, one dies in a step"
  ["-DGENS -DCALLER_DIES"]="2 broadcasters+2 targets, a caller dies"
  ["-DREUSE"]="caller+cloner+exiter whose tid is reused"
  ["-DWRAP -DTAGS=2"]="caller (3 generations)+2 targets, 2 tags"
  ["-DCREATE"]="caller+cloner of short-lived threads"
)

# One run per row: label | scenario flags | mode | search | expectation | extra flags
#   search: safe (deadline may fire at any wait; assertions, valid end states),
#           live (deadline fires only when nothing else can move; assertions, no cycle at all), or
#           fair (as live, under weak fairness: no cycle in which every enabled thread keeps moving)
#   expectation: pass:<properties and witnesses it checks>, or fail:<the one it must break>
rows=(
  "churn-strict||strict|safe|pass:P1 P2 P3 P4 P5 P6 P9 W1 W2 W3|"
  "churn-relaxed||relaxed|safe|pass:P1 P4 P5 P6 P9 W1 W2 W3|"
  "gens-strict|-DGENS|strict|safe|pass:P1 P2 P3 P4 P5 P6 P9|"
  "gens-relaxed|-DGENS|relaxed|safe|pass:P1 P4 P5 P6 P9|"
  "churn-strict-live||strict|live|pass:P1|"
  "churn-relaxed-live||relaxed|live|pass:P1|"
  "gens-strict-live|-DGENS|strict|live|pass:P1|"
  "gens-relaxed-live|-DGENS|relaxed|live|pass:P1|"
  # tid reuse, a thread or the caller dying inside, tag wrap, continuous creation
  "reuse-strict|-DREUSE|strict|safe|pass:P1 P2 P3 P4 P5 P6 P9 W1 W4|"
  "reuse-relaxed|-DREUSE|relaxed|safe|pass:P1 P4 P5 P6 P9 W1 W4|"
  "reuse-strict-live|-DREUSE|strict|live|pass:P1|"
  "reuse-relaxed-live|-DREUSE|relaxed|live|pass:P1|"
  "die-strict|-DGENS -DDIE|strict|safe|pass:P1 P2 P3 P4 P5 P6 P7 P9|"
  "die-relaxed|-DGENS -DDIE|relaxed|safe|pass:P1 P4 P5 P6 P7 P9|"
  "die-strict-live|-DGENS -DDIE|strict|live|pass:P1|"
  "die-relaxed-live|-DGENS -DDIE|relaxed|live|pass:P1|"
  "caller-dies-strict|-DGENS -DCALLER_DIES|strict|safe|pass:P1 P2 P3 P4 P5 P6 P9|"
  "caller-dies-relaxed|-DGENS -DCALLER_DIES|relaxed|safe|pass:P1 P4 P5 P6 P9|"
  "caller-dies-strict-live|-DGENS -DCALLER_DIES|strict|live|pass:P1 P8|"
  "caller-dies-relaxed-live|-DGENS -DCALLER_DIES|relaxed|live|pass:P1 P8|"
  "wrap-strict|-DWRAP -DTAGS=2|strict|safe|pass:P1 P2 P3 P4 P5 P6 P9|"
  "wrap-relaxed|-DWRAP -DTAGS=2|relaxed|safe|pass:P1 P4 P5 P6 P9|"
  "wrap-strict-live|-DWRAP -DTAGS=2|strict|live|pass:P1|"
  "wrap-relaxed-live|-DWRAP -DTAGS=2|relaxed|live|pass:P1|"
  "create-strict-fair|-DCREATE|strict|fair|pass:P1|"
  # three mutations: each removes one safeguard the proof depends on
  "slot CAS -> plain store||relaxed|safe|fail:P4|-DMUT_PLAIN_STORE"
  "count proof removed||strict|safe|fail:P3|-DMUT_NO_COUNT_PROOF"
  "count proof removed||relaxed|safe|fail:P4|-DMUT_NO_COUNT_PROOF"
  "give-up removed (frozen caller)||strict|safe|fail:P1|-DMUT_NO_GIVEUP"
  # one defect of the old engine at a time, on the new protocol
  "token check removed|-DGENS|strict|safe|fail:P5|-DMUT_NO_TOKEN"
  "drain removed|-DGENS|relaxed|safe|fail:P5|-DMUT_NO_DRAIN"
  "counters without generation (old handler order)|-DGENS|relaxed|safe|fail:P4|-DMUT_UNTAGGED -DMUT_FINAL_BEFORE_COUNT"
  "departures not confirmed (stall)||relaxed|live|fail:P1|-DMUT_NO_DEPARTURE"
  "departures not confirmed (false success)||relaxed|safe|fail:P4|-DMUT_NO_DEPARTURE"
  "listing omission believed||strict|live|fail:P1|-DMUT_LISTING_TRUSTED"
  "triage stores without CAS (old settle)||relaxed|live|fail:P1|-DMUT_OLD_SETTLE"
  "wake only if a thread was counted||strict|safe|fail:P1|-DMUT_COND_WAKE"
  # the first protocol as a whole: every bug it had (witnesses W1-W3) is a state it reaches
  "OLD: relaxed stalls to the deadline||relaxed|live|fail:P1|-DOLD"
  "OLD: relaxed false success (clone + exit)||relaxed|safe|fail:P4|-DOLD"
  "OLD: count includes a thread that exited||relaxed|safe|fail:W1|-DOLD"
  "OLD: late handler counts into next gen|-DGENS|strict|safe|fail:P4|-DOLD"
  "OLD: late handler runs next gen's program|-DGENS|relaxed|safe|fail:P5|-DOLD"
  "OLD: listing omission believed||strict|live|fail:W2|-DOLD"
  "OLD: triage stores over a changed slot||relaxed|safe|fail:W3|-DOLD"
  "OLD: strict, lost wake-up||strict|safe|fail:P1|-DOLD"
  # the engine before the fixes for reused tids and dying threads: every defect of it the model covers is a state it reaches
  "PRE15: reused tid, strict false success|-DREUSE|strict|safe|fail:P3|-DPRE15"
  "PRE15: reused tid, relaxed false success|-DREUSE|relaxed|safe|fail:P4|-DPRE15"
  "PRE15: count proof takes a reused tid|-DREUSE|relaxed|safe|fail:W4|-DPRE15"
  "PRE15: thread died in handler, not named|-DGENS -DDIE|strict|safe|fail:P7|-DPRE15"
  "PRE15: thread died in handler, not named|-DGENS -DDIE|relaxed|safe|fail:P7|-DPRE15"
  "PRE15: thread died in handler, deadline+BUSY|-DGENS -DDIE|strict|live|fail:P1|-DPRE15"
  "PRE15: thread died in handler, deadline+BUSY|-DGENS -DDIE|relaxed|live|fail:P1|-DPRE15"
  "PRE15: dead caller's lock never recovered|-DGENS -DCALLER_DIES|strict|live|fail:P8|-DPRE15"
  "PRE15: dead caller's lock never recovered|-DGENS -DCALLER_DIES|relaxed|live|fail:P8|-DPRE15"
  "PRE15: tag wrap, stale count completes gen|-DWRAP -DTAGS=2|strict|safe|fail:P4|-DPRE15"
  "PRE15: tag wrap, stale count completes gen|-DWRAP -DTAGS=2|relaxed|safe|fail:P4|-DPRE15"
  "PRE15: report while a handler is inside|-DWRAP -DTAGS=2|strict|safe|fail:P9|-DPRE15"
  "PRE15: relaxed, continuous creation|-DCREATE|relaxed|fair|fail:P1|-DPRE15"
  # the fixes for reused tids and dying threads, one removed at a time
  "identity: tgkill(tid, 0) alone|-DREUSE|strict|safe|fail:P3|-DMUT_NO_IDENTITY"
  "identity: not checked on departures|-DREUSE|relaxed|safe|fail:P4|-DMUT_NO_IDENTITY_DONE"
  "reused tid not registered as new|-DREUSE|strict|live|fail:P1|-DMUT_NO_REREGISTER"
  "reused tid not registered as new|-DREUSE|relaxed|live|fail:P1|-DMUT_NO_REREGISTER"
  "death not looked for while waiting|-DGENS -DDIE|strict|live|fail:P1|-DMUT_DEATH_UNSEEN_WAIT"
  "death not looked for while waiting|-DGENS -DDIE|relaxed|live|fail:P1|-DMUT_DEATH_UNSEEN_WAIT"
  "death not looked for in the report|-DGENS -DDIE|strict|safe|fail:P7|-DMUT_DEATH_UNSEEN_REPORT"
  "drain waits for a dead handler|-DGENS -DDIE|strict|safe|fail:P7|-DMUT_DEATH_UNSEEN_DRAIN"
  "dead owner's lock not taken over|-DGENS -DCALLER_DIES|strict|live|fail:P8|-DMUT_NO_TAKEOVER"
  "takeover without ABORT, held not watching caller|-DGENS -DCALLER_DIES|strict|live|fail:P1|-DMUT_TAKEOVER_NO_ABORT -DMUT_NO_CALLER_WATCH"
  "final state before the last count|-DWRAP -DTAGS=2|relaxed|safe|fail:P4|-DMUT_FINAL_BEFORE_COUNT"
  "final state before the last count|-DWRAP -DTAGS=2|strict|safe|fail:P9|-DMUT_FINAL_BEFORE_COUNT"
  "no settle wait after the counts|-DWRAP -DTAGS=2|strict|safe|fail:P9|-DMUT_NO_SETTLE"
  "no settle wait after the counts|-DWRAP -DTAGS=2|relaxed|safe|fail:P9|-DMUT_NO_SETTLE"
  # open: designs that do not hold yet (the identity by clock tick; relaxed mode under continuous creation); the model shows how they fail
  "OPEN: planned identity, same-tick reuse|-DREUSE|strict|safe|fail:P3|-DIDENT_TICK"
  "OPEN: planned identity, same-tick reuse|-DREUSE|relaxed|safe|fail:P4|-DIDENT_TICK"
  "OPEN: relaxed, continuous creation|-DCREATE|relaxed|fair|fail:P1|"
)

declare -A name=(
  [P1]="P1 every broadcast ends"
  [P2]="P2 strict: unreachable -> no step ran"
  [P3]="P3 strict: no old state beside new"
  [P4]="P4 success: all ran exactly once"
  [P5]="P5 only live+ours runs a step"
  [P6]="P6 failure at k: steps 1..k-1"
  [P7]="P7 died inside: named, not waited for"
  [P8]="P8 a dead lock owner is taken over"
  [P9]="P9 a handler still inside is named"
  [W1]="W1 excluded: exited thread counted"
  [W2]="W2 excluded: omission believed"
  [W3]="W3 excluded: triage over changed slot"
  [W4]="W4 excluded: reused tid taken as known"
)

# Builds and runs one row; writes "states depth seconds verdict" to $work/<n>.out.
check() {
  local n=$1 scen=$2 mode=$3 search=$4 expect=$5 extra=$6 dir="$work/$1"
  local flags="$scen $extra" cflags="-DSAFETY" pflags="-m200000" width=-w24 opt=-O1
  [ "$mode" = relaxed ] && flags="$flags -DRELAXED"
  [ "$search" = live ] && { flags="$flags -DLIVE"; cflags="-DNP"; pflags="$pflags -l"; }
  [ "$search" = fair ] && { flags="$flags -DLIVE"; cflags="-DNP"; pflags="$pflags -l -f"; }
  # a counterexample search is small and stops at the first error: -O0 compiles 4 times faster
  [ "${expect%%:*}" = fail ] && { flags="$flags -DONLY_${expect#fail:}"; opt=-O0; }
  [ "$n" = 0 ] && width=-w26  # the largest run
  mkdir -p "$dir" && cd "$dir"
  # -o1: spin's dataflow optimisation resets a live local here (a false error);
  # -O1: gcc 12's -O2 (tree-slp-vectorize) miscompiles pan (clang -O2 and gcc -O0 agree with -O1).
  # $flags and $pflags are lists of options.
  # shellcheck disable=SC2086
  spin -o1 $flags -a "$model" >spin.log 2>&1
  gcc -w $opt $cflags -DCOLLAPSE -o pan pan.c
  # shellcheck disable=SC2086
  ./pan $pflags $width >pan.log 2>&1 || true
  local states depth secs verdict
  states=$(awk '/states, stored/ {print $1; exit}' pan.log)
  depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' pan.log | head -1)
  secs=$(sed -n 's/^pan: elapsed time \([0-9.e+]*\) seconds.*/\1/p' pan.log | head -1)
  if grep -q "errors: 0" pan.log && grep -q "max search depth too small" pan.log; then verdict="error: search truncated at the depth limit"
  elif grep -q "errors: 0" pan.log; then verdict=ok
  elif grep -q "^pan:1: invalid end state" pan.log; then verdict="P1:invalid end state (deadlock)"
  elif grep -q "^pan:1: non-progress cycle" pan.log; then verdict="P1:non-progress cycle"
  else verdict=$(grep "^pan:1:" pan.log | grep -o "[PW][1-9]_[A-Za-z_]*" | head -1); verdict="${verdict%%_*}:${verdict#*_}"
  fi
  [ -n "$states" ] || verdict="error: see $dir/pan.log"
  echo "${states:-0}|${depth:-0}|${secs:-0}|$verdict" >"$work/$n.out"
}

# Two runs at a time (the machine has 2 cores); results are printed in table order.
jobs=$(nproc); [ "$jobs" -gt 2 ] && jobs=2
start=$(date +%s)
for i in "${!rows[@]}"; do
  IFS='|' read -r label scen mode search expect extra <<<"${rows[$i]}"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  { check "$i" "$scen" "$mode" "$search" "$expect" "$extra" || echo "0|0|0|error: spin or gcc failed in $work/$i" >"$work/$i.out"; } &
done

printf '%-50s %-12s %-46s %10s %6s %8s  %s\n' "property / mutation" mode threads states depth time result
bad=0
for i in "${!rows[@]}"; do
  IFS='|' read -r label scen mode search expect extra <<<"${rows[$i]}"
  while [ ! -f "$work/$i.out" ]; do sleep 0.2; done
  IFS='|' read -r states depth secs verdict <"$work/$i.out"
  threads=${scenario[${scen:-churn}]}
  [ "$search" = safe ] || mode="$mode/$search"
  if [ "${expect%%:*}" = pass ]; then
    for p in ${expect#pass:}; do
      result=pass
      [ "$verdict" = ok ] || { result="FAIL: $verdict"; bad=1; }
      printf '%-50s %-12s %-46s %10s %6s %7ss  %s\n' "${name[$p]}" "$mode" "$threads" "$states" "$depth" "$secs" "$result"
    done
  else
    want=${expect#fail:}
    if [ "${verdict%%:*}" = "$want" ]; then result="caught by ${verdict/:/ }"
    else result="NOT CAUGHT (expected $want, got $verdict)"; bad=1
    fi
    printf '%-50s %-12s %-46s %10s %6s %7ss  %s\n' "mutation: $label" "$mode" "$threads" "$states" "$depth" "$secs" "$result"
  fi
done
echo "total: $(( $(date +%s) - start ))s"
if [ "$bad" != 0 ]; then touch "$work/unexpected"; echo "model-check: unexpected outcome (trails in the work directory)"; exit 1; fi
echo "model-check: every property holds, every mutation is caught"
