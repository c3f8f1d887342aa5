#!/usr/bin/env bash
# Builds allthreads as scripts/install.sh installs it and prints the executable's path: release,
# with the Swift standard library, Dispatch and FoundationEssentials (--static-swift-stdlib) and
# libstdc++ and libgcc linked in, so that it loads glibc (libc, libm, the dynamic loader) and
# libseccomp only. Every shared library costs each start its lookup, mapping, relocation and
# symbol binding: libstdc++ and libgcc_s alone cost 10% of the start-up CPU time and 1.2 MiB
# (docs/benchmark.md, "Command start-up"). glibc stays shared: a static glibc resolves users and
# groups through NSS modules it must load from the shared glibc, which crashes (`drop --user`
# with a name that /etc/passwd lacks, under `passwd: files systemd`).
#   scripts/release-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The Swift driver asks for -lstdc++ by name; the linker takes the first library of that name
# along the search path, and -L directories come first: one that holds only the archive.
archives=.build/static-archives
libstdcxx=$(gcc -print-file-name=libstdc++.a)
[[ -f $libstdcxx ]] || { echo "release-build.sh: no libstdc++.a (Debian: apt-get install libstdc++-12-dev)" >&2; exit 1; }
mkdir -p "$archives"
ln -sfn "$libstdcxx" "$archives/libstdc++.a"
swift build -c release --product allthreads --static-swift-stdlib \
    -Xswiftc -L"$PWD/$archives" -Xswiftc -Xclang-linker -Xswiftc -static-libgcc >&2
echo "$(swift build -c release --show-bin-path)/allthreads"
