#!/usr/bin/env bash
# Follows README.md's section "Add AllThreads to your package" word for word, as a new user
# would: in a temporary folder, a link named AllThreads to this checkout and a package MyServer
# beside it whose Package.swift and Sources/MyServer/main.swift are the section's two Swift
# blocks; builds it (resolving swift-system as any app would, with no Package.resolved) with no
# warning, then, as root, runs it: it must drop to nobody and print the proof's line.
# A first build of the package takes 1 to 3 minutes on 2 cores.
#   scripts/test-adopt.sh     one summary line; exit 0 on PASS, 1 on FAIL
set -euo pipefail
cd "$(dirname "$0")/.."

readonly SECTION="## Add AllThreads to your package"
readonly BUILD_SECONDS=1200
readonly RUN_SECONDS=60

fail() {
    echo "test-adopt.sh: FAIL: $*" >&2
    exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$PWD" "$work/AllThreads"
package="$work/MyServer"
mkdir -p "$package/Sources/MyServer"

# The section's Swift blocks: the first is the manifest, the second the program.
blocks=$(awk -v section="$SECTION" -v manifest="$package/Package.swift" -v main="$package/Sources/MyServer/main.swift" '
    $0 == section { inside = 1; next }
    inside && /^## / { exit }
    !inside { next }
    fence && /^```$/ { fence = 0; next }
    fence && block == 1 { print > manifest }
    fence && block == 2 { print > main }
    /^```swift$/ { block++; fence = 1 }
    END { print block + 0 }' README.md)
[ "$blocks" -eq 2 ] || fail "README.md's section '$SECTION' shows $blocks Swift blocks, expected 2 (the manifest, then main.swift)"

bash scripts/deps.sh
log="$work/build.log"
started=$SECONDS
if ! timeout "$BUILD_SECONDS" swift build --package-path "$package" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    fail "the package of the README did not build (or took longer than ${BUILD_SECONDS}s)"
fi
if grep -q 'warning:' "$log"; then
    grep 'warning:' "$log" >&2
    fail "the package of the README built with warnings"
fi
built=$((SECONDS - started))
binary="$(swift build --package-path "$package" --show-bin-path)/MyServer"
[ -x "$binary" ] || fail "no executable at $binary"

if [ "$(id -u)" -ne 0 ]; then
    echo "test-adopt.sh: built in ${built}s; not run: it drops root, and this is not root: PASS (build only)"
    exit 0
fi
output=$(timeout "$RUN_SECONDS" "$binary" 2>&1) || fail "MyServer failed: $output"
[[ "$output" =~ ^"dropped to nobody and proven on "[0-9]+" threads"$ ]] || fail "MyServer printed: $output"
echo "test-adopt.sh: built in ${built}s; MyServer: $output: PASS"
