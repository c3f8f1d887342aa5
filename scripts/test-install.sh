#!/usr/bin/env bash
# Checks scripts/install.sh in a temporary prefix, with the debug build (seconds once `swift build`
# has run): requests for set-ID or capabilities are refused before anything is installed; then
# allthreads is installed with mode 0755, its man pages and bash, zsh and fish completions with
# mode 0644, nothing set-ID or with file capabilities; every subcommand `allthreads --help` lists
# (nested ones too) has a page of its own (allthreads-caps-set.1), an mdoc page for section 1 that
# groff renders without a warning, named in its parent's SEE ALSO, with the real exit statuses
# and the SEE ALSO pages of the tools beside it; the `-- COMMAND` paragraph is in allthreads(1)
# only; every completion script names every subcommand; it links no fixture, scenario or benchmark
# code (nm). Prefixes with a symbolic link or a
# directory other users may write to are refused, and nothing a planted link names changes.
# It runs SwiftPM, so it cannot run inside `swift test` (which holds the build folder's lock):
# scripts/test.sh runs it after the test suite.
#   scripts/test-install.sh
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "test-install.sh: FAIL: $*" >&2
    exit 1
}

prefix=$(mktemp -d)
base=$(mktemp -d)
trap 'rm -rf "$prefix" "$base"' EXIT

# Refused with exit 2 and one line on stderr, before anything is built or installed.
refused() {
    local status=0 output
    output=$("$@" 2>&1) || status=$?
    [[ $status == 2 && $output == *"refusing"* ]] || fail "'$*' was not refused (exit $status): $output"
    [[ -z $(ls -A "$prefix") ]] || fail "'$*' installed something: $(ls -A "$prefix")"
}
refused bash scripts/install.sh --debug --prefix "$prefix" --setuid
refused bash scripts/install.sh --debug --prefix "$prefix" --mode=4755
refused bash scripts/install.sh --debug --prefix "$prefix" --caps=cap_setuid+ep
refused env ALLTHREADS_SETUID=1 bash scripts/install.sh --debug --prefix "$prefix"

# A prefix another user could have prepared is refused before anything is built, and nothing
# it points to changes: a root-only directory a planted link names stays 0700 and empty, a
# world-writable one keeps its mode.
unsafe() {
    local status=0 output
    output=$(bash scripts/install.sh --debug --prefix "$1" 2>&1) || status=$?
    [[ $status == 2 && $output == *"refusing prefix"*"$2"* ]] || fail "prefix $1 was not refused for '$2' (exit $status): $output"
}
mkdir -m 0700 "$base/private"
ln -s "$base/private" "$base/link"
unsafe "$base/link" "$base/link is a symbolic link"
unsafe "$base/link/deeper" "$base/link is a symbolic link"
mkdir -m 0755 "$base/planted"
ln -s "$base/private" "$base/planted/bin"
unsafe "$base/planted" "$base/planted/bin is a symbolic link"
mkdir -m 0777 "$base/open"
unsafe "$base/open/prefix" "$base/open is writable by other users"
mkdir -m 1777 "$base/sticky"
unsafe "$base/sticky" "$base/sticky/bin would be made in $base/sticky"
unsafe "$base/sticky/new" "would be made in $base/sticky"
if ((EUID == 0)); then
    mkdir -m 0755 "$base/nobody"
    chown 65534 "$base/nobody"
    unsafe "$base/nobody/prefix" "$base/nobody belongs to uid 65534"
fi
for entry in private:700 open:777 sticky:1777; do
    directory=$base/${entry%:*}
    [[ $(stat -c %a "$directory") == "${entry#*:}" && -z $(ls -A "$directory") ]] ||
        fail "$directory changed: mode $(stat -c %a "$directory"), holds: $(ls -A "$directory")"
done

bash scripts/install.sh --debug --prefix "$prefix" >/dev/null
[[ $(stat -c %a "$prefix") == 700 ]] || fail "the prefix's own mode changed: $(stat -c %a "$prefix"), not 700"

program=$prefix/bin/allthreads
bash_completion=$prefix/share/bash-completion/completions/allthreads
zsh_completion=$prefix/share/zsh/site-functions/_allthreads
fish_completion=$prefix/share/fish/vendor_completions.d/allthreads.fish

# Modes exactly: no set-user-ID, set-group-ID or sticky bit, nothing writable by others.
for entry in "$program:755" "$bash_completion:644" "$zsh_completion:644" "$fish_completion:644"; do
    file=${entry%:*} mode=${entry##*:}
    [[ -f $file ]] || fail "$file is not installed"
    [[ $(stat -c %a "$file") == "$mode" ]] || fail "$file has mode $(stat -c %a "$file"), not $mode"
done
setid=$(find "$prefix" -perm /6000)
[[ -z $setid ]] || fail "set-ID files installed: $setid"
if command -v getcap >/dev/null; then
    capabilities=$(getcap -r "$prefix")
    [[ -z $capabilities ]] || fail "files with capabilities installed: $capabilities"
fi
"$program" inspect >/dev/null || fail "the installed allthreads does not run"
# No Foundation: it brings ICU, 2 ms and 6 MiB more at every start (docs/benchmark.md).
foundation=$(ldd "$program" | grep -E 'lib(Foundation|FoundationInternationalization|_FoundationICU)\.so' || true)
[[ -z $foundation ]] || fail "the installed allthreads loads Foundation: $foundation"
# No test or benchmark code: no function of the C fixtures (CWorkload and CFaults: cw_..., such as
# cw_start_signal_blocker) or of the benchmark's allocation counter (mc_..., and its own malloc,
# calloc, realloc, free), no Swift symbol of the fixtures (AllThreadsWorkload, AllThreadsFaults),
# the scenarios or the benchmark. The debug build links every object of its targets, so what the
# command depends on shows here; its own thread starter (ts_...) shows that nm sees the symbols.
symbols=$(nm "$program") || fail "nm cannot read $program"
grep -q ' T ts_start_idle_thread$' <<<"$symbols" || fail "nm shows no ts_start_idle_thread in $program: symbols stripped?"
fixture_pattern=' [A-Za-z] (cw_|mc_)| T (malloc|calloc|realloc|free)$|AllThreadsWorkload|AllThreadsFaults|allthreads_scenarios|allthreads_bench'
fixtures=$(grep -E "$fixture_pattern" <<<"$symbols" || true)
[[ -z $fixtures ]] || fail "the installed allthreads links test or benchmark code: $(head -5 <<<"$fixtures")"

# An mdoc page for section 1 (a comment line, the date, then the title), rendered without a
# warning, with an EXIT STATUS that lists what the command really exits with and a SEE ALSO.
#   check_page NAME PARENT STATUS...
check_page() {
    local name=$1 parent=$2 status file
    shift 2
    file=$manual/$name.1
    [[ -f $file ]] || fail "$file is not installed"
    [[ $(stat -c %a "$file") == 644 ]] || fail "$file has mode $(stat -c %a "$file"), not 644"
    [[ $(sed -n 3p "$file") == ".Dt ${name^^} 1" && $(sed -n 2p "$file") == .Dd* ]] ||
        fail "$file has no mdoc header for ${name^^}(1): $(head -3 "$file")"
    if command -v groff >/dev/null; then
        warnings=$(groff -mandoc -Tutf8 -ww -z "$file" 2>&1)
        [[ -z $warnings ]] || fail "groff warns about $file: $warnings"
    fi
    ! grep -qx '.Ex -std' "$file" || fail "$file has the generic exit status (0 success, >0 error)"
    for status in "$@"; do
        sed -n '/^\.Sh "EXIT STATUS"/,/^\.Sh /p' "$file" | grep -qx ".It $status" || fail "$file's EXIT STATUS lacks $status"
    done
    for reference in "setpriv 1" "capabilities 7" "seccomp 2" "landlock 7" ${parent:+"$parent 1"}; do
        sed -n '/^\.Sh "SEE ALSO"/,$p' "$file" | grep -Eqx "\.Xr $reference( ,)?" || fail "$file's SEE ALSO lacks $reference"
    done
}
manual=$prefix/share/man/man1
command -v groff >/dev/null || echo "test-install.sh: groff not found; the pages were not rendered" >&2
check_page allthreads "" 0 1 2 3 126 127
check_page allthreads-inspect allthreads 0 1 2 3
grep -qx '.It Fl -all' "$manual/allthreads-inspect.1" || fail "allthreads-inspect.1 does not document inspect --all"
# The paragraph on `-- COMMAND` is said once, in allthreads(1), and every change command points there.
[[ $(grep -l "^After the options, '-- COMMAND" "$manual"/*.1) == "$manual/allthreads.1" ]] ||
    fail "the '-- COMMAND' paragraph is not in allthreads.1 alone: $(grep -l "^After the options, '-- COMMAND" "$manual"/*.1)"

# Every subcommand, found through --help, as `path:name` (such as `caps:set`).
subcommands() {
    local name
    for name in $("$program" "$@" --help | sed -n '/^SUBCOMMANDS:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
        echo "${*:+$*:}$name"
        subcommands "$@" "$name"
    done
}
all=$(subcommands)
[[ $(wc -l <<<"$all") -ge 12 ]] || fail "too few subcommands found in --help: $all"
for subcommand in $all; do
    name=${subcommand##*:}
    page=allthreads-${subcommand//:/-}
    parent=${page%-"$name"}
    case "$subcommand" in
    inspect) ;;
    caps | prctl) check_page "$page" "$parent" 0 1 2 ;;
    *)
        check_page "$page" "$parent" 0 1 2 126 127
        grep -qx '.Xr allthreads 1 .' "$manual/$page.1" || fail "$page.1 does not point to allthreads(1) for '-- COMMAND'"
        ;;
    esac
    grep -Eqx "\.Xr $page 1( ,)?" "$manual/$parent.1" || fail "$parent.1 does not name $page(1) in SEE ALSO"
    for completion in "$bash_completion" "$zsh_completion" "$fish_completion"; do
        grep -qw -- "$name" "$completion" || fail "$completion does not name the subcommand $subcommand"
    done
done

# Each completion script is what its shell loads.
bash -c 'source "$1" && complete -p allthreads' _ "$bash_completion" >/dev/null ||
    fail "$bash_completion does not register a completion for allthreads"
[[ $(head -1 "$zsh_completion") == "#compdef allthreads" ]] || fail "$zsh_completion does not start with #compdef allthreads"
grep -Eq "^complete -c '?allthreads'? " "$fish_completion" || fail "$fish_completion has no 'complete -c allthreads'"

# A link planted in place of an installed file is refused too, not written through.
ln -sf "$base/private/planted" "$zsh_completion"
status=0
output=$(bash scripts/install.sh --debug --prefix "$prefix" 2>&1) || status=$?
[[ $status == 2 && $output == *"refusing to install over $zsh_completion"* ]] || fail "a planted $zsh_completion was not refused (exit $status): $output"
[[ -z $(ls -A "$base/private") ]] || fail "install wrote through a planted link: $(ls -A "$base/private")"

echo "PASS test-install.sh: $(wc -l <<<"$all") subcommands, each with a man page, in the bash, zsh and fish completions; modes 0755/0644, nothing set-ID"
