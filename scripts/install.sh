#!/usr/bin/env bash
# Installs the release-built allthreads as PREFIX/bin/allthreads (default prefix /usr/local),
# mode 0755, then checks that the installed file carries neither a set-user-ID or set-group-ID
# bit nor file capabilities. It never sets them, and refuses any option or environment variable
# that asks for them: whoever runs a program chooses its arguments, so an allthreads installed
# set-ID or with capabilities would hand them to any local user (and it refuses to run so).
# Give it privileges from outside: sudo allthreads ..., or a parent that holds them.
#   scripts/install.sh [--prefix DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "install.sh: $*" >&2
    exit 2
}

readonly setid_refusal="allthreads is never installed set-user-ID, set-group-ID or with file capabilities (README: 'Not a privilege escalator'); run it with sudo instead"

shopt -s nocasematch
prefix=/usr/local
while (($#)); do
    case "$1" in
    --prefix)
        (($# >= 2)) || fail "--prefix needs a directory"
        prefix=$2
        shift 2
        ;;
    --prefix=*)
        prefix=${1#--prefix=}
        shift
        ;;
    -h | --help)
        echo "usage: scripts/install.sh [--prefix DIR]   (default /usr/local; installs DIR/bin/allthreads, mode 0755)"
        exit 0
        ;;
    *suid* | *sgid* | *setuid* | *setgid* | *cap* | --mode* | --owner* | --group*)
        fail "refusing '$1': $setid_refusal"
        ;;
    *) fail "unknown argument '$1' (usage: scripts/install.sh [--prefix DIR])" ;;
    esac
done
[[ -n $prefix ]] || fail "--prefix needs a directory"

for name in $(compgen -e); do
    case "$name" in
    *suid* | *sgid* | *setuid* | *setgid* | allthreads_*cap*) fail "refusing environment variable $name: $setid_refusal" ;;
    esac
done

bash scripts/deps.sh
swift build -c release --product allthreads
built="$(swift build -c release --show-bin-path)/allthreads"
destination="$prefix/bin/allthreads"

install -d -m 0755 "$prefix/bin"
# install(1) writes a new file: no mode bit or extended attribute of an older one survives.
install -m 0755 "$built" "$destination"

# Whatever set them, a privileged allthreads must not stay installed.
refuse_installed() {
    rm -f "$destination"
    fail "$destination $1: removed it; $setid_refusal"
}
mode=$(stat -c %a "$destination")
[[ $mode == 755 ]] || refuse_installed "had mode $mode, not 755"
if command -v getcap >/dev/null; then
    capabilities=$(getcap "$destination")
    [[ -z $capabilities ]] || refuse_installed "carried file capabilities ($capabilities)"
else
    echo "install.sh: getcap not found (Debian: libcap2-bin); file capabilities not checked" >&2
fi
echo "installed $destination (mode 0755, no set-ID bit, no file capabilities)"
