#!/usr/bin/env bash
# Builds allthreads as scripts/install.sh installs it and prints the executable's path: release,
# with the Swift standard library, Dispatch and FoundationEssentials (--static-swift-stdlib) and
# libstdc++ and libgcc linked in, so that it loads glibc (libc, libm, the dynamic loader) and
# libseccomp only. Every shared library costs each start its lookup, mapping, relocation and
# symbol binding: libstdc++ and libgcc_s alone cost a tenth of the start-up CPU time and 1.2 MiB
# (docs/benchmark.md, "Command start-up"). glibc stays shared: a static glibc resolves users and
# groups through NSS modules it must load from the shared glibc, which crashes (`drop --user`
# with a name that /etc/passwd lacks, under `passwd: files systemd`).
# It links with lld, which places the functions of scripts/startup-order.txt (those a start runs,
# written by scripts/startup-order.sh) next to each other: the kernel maps code 64 KiB around each
# page touched, and spread over the binary they kept 5.2 MiB of it resident, together 3.7 MiB
# (it moves whole input sections: most of the standard library's code is one). -use-ld=lld and
# --static-swift-stdlib reach some compilations too: switching between this and a plain release
# build compiles part of the package again.
#   scripts/release-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
libstdcxx=$(gcc -print-file-name=libstdc++.a)
libgcc_eh=$(gcc -print-file-name=libgcc_eh.a)
[[ -f $libstdcxx && -f $libgcc_eh ]] ||
    { echo "release-build.sh: no libstdc++.a or libgcc_eh.a (Debian: apt-get install libstdc++-12-dev)" >&2; exit 1; }
bin=$(swift build -c release --show-bin-path)
mkdir -p "$bin"
# The Swift driver links libstdc++ by name (-lstdc++), and SwiftPM gives the linker its build
# folder (-L) ahead of the compiler's folders, where libstdc++.so is: an archive of that name in
# the build folder is taken instead. It is there for this link only (other products keep the
# shared library), and the executable is removed first so that SwiftPM links it again.
# libgcc_eh.a, given as an input, defines the unwinder that libgcc_s would otherwise provide.
trap 'rm -f "$bin/libstdc++.a"' EXIT
ln -sfn "$libstdcxx" "$bin/libstdc++.a"
rm -f "$bin/allthreads"
swift build -c release --product allthreads --static-swift-stdlib -Xlinker "$libgcc_eh" -Xswiftc -use-ld=lld \
    -Xlinker --symbol-ordering-file="$PWD/scripts/startup-order.txt" -Xlinker --no-warn-symbol-ordering >&2
rm -f "$bin/libstdc++.a"
if ldd "$bin/allthreads" | grep -Eq 'libstdc\+\+|libgcc_s'; then
    echo "release-build.sh: note: $bin/allthreads still loads libstdc++ or libgcc_s (this SwiftPM orders -L otherwise); it starts slower" >&2
fi
echo "$bin/allthreads"
