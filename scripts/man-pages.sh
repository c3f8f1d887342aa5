#!/usr/bin/env bash
# Makes the manual: one mdoc page per command, allthreads(1), allthreads-drop(1),
# allthreads-caps-set(1), ..., in DIR. swift-argument-parser's GenerateManual plugin (--multi-page)
# writes the pages from the commands' own help; this script then gives them the names man(1)
# looks up (allthreads-caps-set, not allthreads.caps.set), says the `-- COMMAND` paragraphs once,
# in allthreads(1), where every change command's page points, replaces the plugin's generic EXIT
# STATUS ("0 on success, >0 on error") with the statuses the command really uses, and lists in
# SEE ALSO the parent and child pages and setpriv(1), capabilities(7), seccomp(2), landlock(7).
#   scripts/man-pages.sh DIR [debug|release]    (scripts/install.sh runs it; DIR must exist)
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "man-pages.sh: $*" >&2
    exit 2
}
(($# >= 1)) || fail "usage: scripts/man-pages.sh DIR [debug|release]"
destination=$1
configuration=${2:-release}
[[ -d $destination ]] || fail "$destination is not a directory"

# The plugin builds the package's products, runs allthreads --experimental-dump-help and writes
# one page per command into its own work folder.
generated=.build/plugins/GenerateManual/outputs/allthreads-cli
rm -f "$generated"/*.1
swift package plugin generate-manual --multi-page --configuration "$configuration" >&2
[[ -s $generated/allthreads.1 ]] || fail "swift package plugin generate-manual wrote no $generated/allthreads.1"

# The two paragraphs every change command's help ends with: the manual says them once.
readonly COMMAND_FIRST="After the options, '-- COMMAND"
readonly COMMAND_TERMINAL="When allthreads has a controlling terminal"
first_paragraph=$(grep -h -m1 -e "^$COMMAND_FIRST" "$generated/allthreads.setuid.1") || true
terminal_paragraph=$(grep -h -m1 -e "^$COMMAND_TERMINAL" "$generated/allthreads.setuid.1") || true
[[ -n $first_paragraph && -n $terminal_paragraph ]] || fail "allthreads setuid's help no longer ends with the '-- COMMAND' paragraphs"

# The exit statuses of CommandFailure and AllThreadsCommand.main, by kind of command.
exit_status() {
    local name=$1
    echo '.Sh "EXIT STATUS"'
    echo '.Bl -tag -width 6n'
    echo '.It 0'
    case "$name" in
    allthreads-inspect) echo "Every thread of each process read agrees." ;;
    *) echo "Success." ;;
    esac
    echo '.It 1'
    case "$name" in
    allthreads) echo "A change or its --verify failed (standard error names each thread and why), or inspect found threads that differ." ;;
    allthreads-inspect) echo "Some thread differs (with --all: in some process); this wins over 3." ;;
    *) echo "The change or --verify failed: standard error names each thread and why." ;;
    esac
    echo '.It 2'
    echo "A usage error, or allthreads was started set-user-ID, set-group-ID or with file capabilities, which it always refuses: nothing changed."
    case "$name" in
    allthreads | allthreads-inspect)
        echo '.It 3'
        echo "inspect could not read a process or thread it was asked about (or a /proc file of it was malformed or over 16 MiB) and found no thread that differs: it does not say they agree."
        ;;
    esac
    case "$name" in
    allthreads-inspect | allthreads-help) ;;
    *)
        echo '.It 126'
        echo "The command after -- could not be executed after the change."
        echo '.It 127'
        echo "The command after -- was gone when it was to be executed after the change."
        echo '.It other'
        echo "The command after -- ran: its own status (on a pseudo-terminal, 128 + N when signal N ended it)."
        ;;
    esac
    echo '.El'
}

see_also() {
    local name=$1 dotted=$2 child
    local parent=${dotted%.*}
    local -a references=()
    # Subcommand names have dashes of their own (no-new-privs): the parent is found by the dots.
    [[ $name == allthreads ]] || references+=("${parent//./-} 1")
    [[ $name == allthreads || $parent == allthreads ]] || references+=("allthreads 1")
    for child in "$generated/$dotted".*.1; do
        [[ -e $child ]] || continue
        child=${child##*/}
        child=${child%.1}
        [[ ${child#"$dotted".} != *.* && $child != allthreads.help ]] || continue
        references+=("${child//./-} 1")
    done
    references+=("setpriv 1" "capabilities 7" "seccomp 2" "landlock 7")
    echo '.Sh "SEE ALSO"'
    local index
    for index in "${!references[@]}"; do
        if ((index + 1 < ${#references[@]})); then
            echo ".Xr ${references[index]} ,"
        else
            echo ".Xr ${references[index]}"
        fi
    done
}

rm -f "$destination"/allthreads*.1
for page in "$generated"/*.1; do
    dotted=${page##*/}
    dotted=${dotted%.1}
    # `allthreads help` prints --help; it needs no page.
    [[ $dotted != allthreads.help ]] || continue
    name=${dotted//./-}
    title=${name^^}
    {
        # Everything up to the plugin's EXIT STATUS, with the right title; mdoc wants .Pp where
        # the help has blank lines (man warns "Empty input line" otherwise).
        awk -v title="$title" -v root="$([[ $name == allthreads ]] && echo 1)" \
            -v first="$COMMAND_FIRST" -v terminal="$COMMAND_TERMINAL" -v paragraphs="$first_paragraph"$'\n\n'"$terminal_paragraph" '
            /^\.Sh "EXIT STATUS"$/ { exit }
            /^\.Dt / { print ".Dt " title " 1"; next }
            root && /^Exit status: / { skip = 1; next }
            root && /^Every change command takes / { print; print ""; print paragraphs; next }
            !root && index($0, first) == 1 { print "For \x27-- COMMAND [ARG...]\x27 after the options (run a command once every thread has changed), and how it gets its own pseudo-terminal, see"; print ".Xr allthreads 1 ."; gap = 1; next }
            gap && /^$/ { gap = 0; next }
            !root && index($0, terminal) == 1 { skip = 1; next }
            skip && /^$/ { skip = 0; next }
            skip { skip = 0 }
            { print }' "$page" | sed 's/^$/.Pp/' | cat -s
        exit_status "$name"
        see_also "$name" "$dotted"
    } >"$destination/$name.1"
done
echo "man-pages.sh: $(find "$destination" -name 'allthreads*.1' | wc -l) pages in $destination" >&2
