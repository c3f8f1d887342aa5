#!/usr/bin/env bash
# Checks scripts/install.sh in a temporary prefix, with the debug build (seconds once `swift build`
# has run): requests for set-ID or capabilities are refused before anything is installed; then
# allthreads is installed with mode 0755, its man page and bash, zsh and fish completions with
# mode 0644, nothing set-ID or with file capabilities; the man page is an mdoc page for section 1
# that groff renders without a warning; the page and every completion script name every
# subcommand `allthreads --help` lists (nested ones too). Prefixes with a symbolic link or a
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
page=$prefix/share/man/man1/allthreads.1
bash_completion=$prefix/share/bash-completion/completions/allthreads
zsh_completion=$prefix/share/zsh/site-functions/_allthreads
fish_completion=$prefix/share/fish/vendor_completions.d/allthreads.fish

# Modes exactly: no set-user-ID, set-group-ID or sticky bit, nothing writable by others.
for entry in "$program:755" "$page:644" "$bash_completion:644" "$zsh_completion:644" "$fish_completion:644"; do
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

# An mdoc page: a comment line, the date, then the title for section 1.
[[ $(sed -n 3p "$page") == ".Dt ALLTHREADS 1" && $(sed -n 2p "$page") == .Dd* ]] ||
    fail "$page has no mdoc header for ALLTHREADS(1): $(head -3 "$page")"
if command -v groff >/dev/null; then
    warnings=$(groff -mandoc -Tutf8 -ww -z "$page" 2>&1)
    [[ -z $warnings ]] || fail "groff warns about $page: $warnings"
else
    echo "test-install.sh: groff not found; the page was not rendered" >&2
fi
grep -qx '.It Fl -all' "$page" || fail "$page does not document inspect --all"

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
    grep -qx ".It Em $name" "$page" || fail "$page does not name the subcommand $subcommand"
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

echo "PASS test-install.sh: $(wc -l <<<"$all") subcommands in the man page and the bash, zsh and fish completions; modes 0755/0644, nothing set-ID"
