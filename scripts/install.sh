#!/usr/bin/env bash
# Installs the release-built allthreads as PREFIX/bin/allthreads (default prefix /usr/local),
# mode 0755, with its manual (PREFIX/share/man/man1/allthreads.1 and one page per subcommand,
# allthreads-drop.1, ..., made by scripts/man-pages.sh) and its bash, zsh and fish completions (mode 0644), then checks that the
# installed program carries neither a set-user-ID or set-group-ID bit nor file capabilities. It never sets them, and refuses any option or environment variable
# that asks for them: whoever runs a program chooses its arguments, so an allthreads installed
# set-ID or with capabilities would hand them to any local user (and it refuses to run so).
# Give it privileges from outside: sudo allthreads ..., or a parent that holds them.
# It refuses a prefix with a component that is a symbolic link or that a user other than root and
# the installer may write to (see safe_directory), and changes the mode of no existing directory.
#   scripts/install.sh [--prefix DIR] [--debug]
# --debug installs the debug build instead: seconds once `swift build` has run (scripts/test-install.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
    echo "install.sh: $*" >&2
    exit 2
}

readonly setid_refusal="allthreads is never installed set-user-ID, set-group-ID or with file capabilities (docs/cli.md: 'Not a privilege escalator'); run it with sudo instead"

shopt -s nocasematch
prefix=/usr/local
configuration=release
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
    --debug)
        configuration=debug
        shift
        ;;
    -h | --help)
        echo "usage: scripts/install.sh [--prefix DIR] [--debug]   (default /usr/local; installs DIR/bin/allthreads, mode 0755, its man pages and completions)"
        exit 0
        ;;
    *suid* | *sgid* | *setuid* | *setgid* | *cap* | --mode* | --owner* | --group*)
        fail "refusing '$1': $setid_refusal"
        ;;
    *) fail "unknown argument '$1' (usage: scripts/install.sh [--prefix DIR] [--debug])" ;;
    esac
done
[[ -n $prefix ]] || fail "--prefix needs a directory"
# A relative prefix is taken from the repository, where the script runs.
[[ $prefix == /* ]] || prefix=$PWD/$prefix

# The prefix and every directory above it must be safe to write through as root: none may be a
# symbolic link, and none may be writable by, or belong to, a user other than root and the
# installer, who could otherwise plant a link there and have root write into (or change the mode
# of) a directory it points to. A root-owned sticky directory (/tmp) may be passed through, since
# no one else can rename or remove what is under it, but only into a directory that exists and is
# checked in turn; nothing is created in it. Existing directories are never changed; missing ones
# are made one at a time with mode 0755 (mkdir fails on anything planted meanwhile).
#   safe_directory DIR [create]
safe_directory() {
    local path=$1 create=${2:-} current="" component owner mode sticky_parent=""
    local -a components
    IFS=/ read -r -a components <<<"$path"
    for component in "" "${components[@]}"; do
        [[ -n $component || -z $current ]] || continue
        [[ $component != . && $component != .. ]] || fail "refusing prefix '$prefix': give it without '.' or '..' components"
        current=${current%/}/$component
        if [[ -L $current ]]; then
            fail "refusing prefix '$prefix': $current is a symbolic link; give the directory it names"
        elif [[ ! -e $current ]]; then
            [[ -z $sticky_parent ]] || fail "refusing prefix '$prefix': $current would be made in $sticky_parent, which other users can write to"
            [[ -n $create ]] || continue
            mkdir -m 0755 -- "$current" || fail "could not make $current"
            continue
        fi
        [[ -d $current ]] || fail "refusing prefix '$prefix': $current is not a directory"
        read -r owner mode < <(stat -c '%u %a' -- "$current")
        [[ $owner == 0 || $owner == "$EUID" ]] ||
            fail "refusing prefix '$prefix': $current belongs to uid $owner, who could replace what is installed"
        sticky_parent=""
        if ((8#$mode & 8#022)); then
            ((owner == 0 && 8#$mode & 8#1000)) ||
                fail "refusing prefix '$prefix': $current is writable by other users (mode $mode)"
            sticky_parent=$current
        fi
    done
    [[ -z $sticky_parent ]] || fail "refusing prefix '$prefix': $sticky_parent is writable by other users (mode 1777)"
}
readonly directories=(bin share/man/man1 share/bash-completion/completions share/zsh/site-functions share/fish/vendor_completions.d)
for directory in "${directories[@]}"; do
    safe_directory "$prefix/$directory"
done

for name in $(compgen -e); do
    case "$name" in
    *suid* | *sgid* | *setuid* | *setgid* | allthreads_*cap*) fail "refusing environment variable $name: $setid_refusal" ;;
    esac
done

bash scripts/deps.sh
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
# The release build loads glibc and libseccomp only, everything else linked in
# (scripts/release-build.sh); the debug build stays dynamic (test-install.sh).
if [[ $configuration == release ]]; then
    release=$(bash scripts/release-build.sh)
    cp "$release" "$staging/allthreads"
else
    swift build -c debug --product allthreads
    cp "$(swift build -c debug --show-bin-path)/allthreads" "$staging/allthreads"
fi
# The manual plugin below builds the products again, without these link options.
built="$staging/allthreads"
destination="$prefix/bin/allthreads"

# Everything is made before anything is installed.
mkdir "$staging/man1"
bash scripts/man-pages.sh "$staging/man1" "$configuration"
[[ -s $staging/man1/allthreads.1 ]] || fail "scripts/man-pages.sh wrote no allthreads.1"
pages=("$staging"/man1/*.1)
for shell in bash zsh fish; do
    "$built" --generate-completion-script "$shell" >"$staging/allthreads.$shell"
done

# Checked again, now that they are made: the build took minutes.
for directory in "${directories[@]}"; do
    safe_directory "$prefix/$directory" create
done
for file in "$destination" "${pages[@]/#"$staging"/"$prefix/share/man"}" "$prefix/share/bash-completion/completions/allthreads" \
    "$prefix/share/zsh/site-functions/_allthreads" "$prefix/share/fish/vendor_completions.d/allthreads.fish"; do
    [[ ! -L $file ]] || fail "refusing to install over $file: it is a symbolic link"
done
# install(1) writes a new file: no mode bit or extended attribute of an older one survives.
install -m 0755 "$built" "$destination"
install -m 0644 "${pages[@]}" "$prefix/share/man/man1/"
install -m 0644 "$staging/allthreads.bash" "$prefix/share/bash-completion/completions/allthreads"
install -m 0644 "$staging/allthreads.zsh" "$prefix/share/zsh/site-functions/_allthreads"
install -m 0644 "$staging/allthreads.fish" "$prefix/share/fish/vendor_completions.d/allthreads.fish"

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
echo "installed $destination (mode 0755, no set-ID bit, no file capabilities), its ${#pages[@]} man pages and bash, zsh and fish completions under $prefix/share"
