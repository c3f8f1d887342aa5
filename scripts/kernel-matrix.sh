#!/usr/bin/env bash
# The kernel matrix: the engine's own C tests (Tests/KernelMatrix) on the kernels users run.
# Builds them -static for x86_64 and aarch64, packs each as the /init of an initramfs, boots
# Debian 12's Linux 6.1 (cloud-amd64, and arm64 on `-M virt`) under qemu-system with TCG and
# 2 vCPUs, runs the same x86_64 tests on the host kernel, and prints one line per kernel and
# test. Exits 1 on any FAIL, or when a VM did not report all its tests.
#
# Needs root (apt-get; the tests change credentials in their own processes). Installs what it
# lacks from Debian's archive; the kernel packages and arm64's libseccomp.a are downloaded into
# .kernel-cache/ (git-ignored): delete it to pick up a newer kernel. qemu-user will not do: its
# own helper thread shows up in /proc/self/task. Nested KVM fails on these machines: TCG only.
#   scripts/kernel-matrix.sh            everything (about 1 minute with a warm cache)
#   KERNEL_MATRIX_VM_SECONDS=300 ...    another deadline per VM (default 240 s)
set -euo pipefail
cd "$(dirname "$0")/.."
cache=.kernel-cache
build=.build-kernels
vm_seconds=${KERNEL_MATRIX_VM_SECONDS:-240}
export DEBIAN_FRONTEND=noninteractive

# The newest cached .deb matching a glob, or nothing.
cached() {
    local match
    # $1 is a glob, expanded here; an unmatched one stays as it is and fails the -e.
    # shellcheck disable=SC2086
    for match in "$cache"/$1; do if [ -e "$match" ]; then printf '%s\n' "$match"; fi; done | sort -V | tail -n 1
}

# ---- what it needs ----
tools=()
command -v qemu-system-x86_64 >/dev/null || tools+=(qemu-system-x86)
command -v qemu-system-aarch64 >/dev/null || tools+=(qemu-system-arm)
command -v aarch64-linux-gnu-gcc >/dev/null || tools+=(gcc-aarch64-linux-gnu)
[ -e /usr/aarch64-linux-gnu/lib/libc.a ] || tools+=(libc6-dev-arm64-cross)
command -v gcc >/dev/null || tools+=(gcc)
command -v cpio >/dev/null || tools+=(cpio)
[ -e /usr/lib/x86_64-linux-gnu/libseccomp.a ] || tools+=(libseccomp-dev)
mkdir -p $cache $build
if ((${#tools[@]})) || [ -z "$(cached 'linux-image-*-cloud-amd64_*_amd64.deb')" ] ||
    [ -z "$(cached 'linux-image-*-arm64_*_arm64.deb')" ] || [ -z "$(cached 'libseccomp-dev_*_arm64.deb')" ]; then
    # arm64 packages are only downloaded and unpacked here, never installed.
    dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    apt-get update -qq
    ((${#tools[@]} == 0)) || apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null
    # The kernel the metapackages point at now (linux-image-6.1.0-<abi>-...).
    amd64_kernel=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
    arm64_kernel=$(apt-cache depends linux-image-arm64:arm64 | awk '/Depends: linux-image-/ {print $2; exit}')
    (cd $cache && apt-get download -qq -o APT::Sandbox::User=root \
        "$amd64_kernel" "${arm64_kernel%:arm64}:arm64" libseccomp-dev:arm64)
fi

# ---- kernels and arm64's libseccomp, unpacked from the cached .debs ----
rm -rf $build/unpacked && mkdir -p $build/unpacked
for deb in "$(cached 'linux-image-*-cloud-amd64_*_amd64.deb')" "$(cached 'linux-image-*-arm64_*_arm64.deb')"; do
    echo "kernel-matrix: $(basename "$deb")"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C $build/unpacked --wildcards './boot/vmlinuz-*'
done
dpkg-deb -x "$(cached 'libseccomp-dev_*_arm64.deb')" $build/unpacked/arm64
amd64_vmlinuz=$(ls $build/unpacked/boot/vmlinuz-*-cloud-amd64)
arm64_vmlinuz=$(ls $build/unpacked/boot/vmlinuz-*-arm64)

# ---- the tests, static, and an initramfs per architecture ----
tests=""
for source in Tests/KernelMatrix/*.c; do [ "$source" = Tests/KernelMatrix/init.c ] || tests+=" $source"; done
engine="Sources/CBroadcast/*.c Sources/CThreadStarter/*.c Tests/Fixtures/CFaults/*.c Tests/Fixtures/CWorkload/*.c"
includes="-ISources/CBroadcast/include -ISources/CThreadStarter/include -ITests/Fixtures/CFaults/include -ITests/Fixtures/CWorkload/include"
# glibc warns that a static binary's getpwnam needs the shared NSS modules: nothing here uses it.
quiet_static() { grep -v -e 'statically linked applications' -e ': in function' >&2 || true; }
build_arch() { # arch compiler [extra flags]
    local cc=$2 out=$build/$1
    shift 2
    mkdir -p "$out"
    # $includes, $tests and $engine are lists of words (the engine's are globs).
    # shellcheck disable=SC2086
    $cc -static -O2 -Wall -Wextra -pthread $includes "$@" -o "$out/kmtests" $tests $engine -lseccomp 2>&1 | quiet_static
    $cc -static -O2 -Wall -Wextra -ISources/CBroadcast/include -o "$out/init" Tests/KernelMatrix/init.c
    rm -rf "$out/root" && mkdir -p "$out/root/proc" "$out/root/sys" "$out/root/dev" "$out/root/tmp"
    cp "$out/init" "$out/kmtests" "$out/root/"
    mknod "$out/root/dev/console" c 5 1
    (cd "$out/root" && find . | cpio -o -H newc --quiet) >"$out/initramfs.cpio"
}
build_arch x86_64 gcc
build_arch aarch64 aarch64-linux-gnu-gcc -I$build/unpacked/arm64/usr/include -L$build/unpacked/arm64/usr/lib/aarch64-linux-gnu

# ---- the VMs (in parallel), and the host kernel meanwhile ----
boot_started=$SECONDS
timeout "$vm_seconds" qemu-system-x86_64 -accel tcg -smp 2 -m 1G -nographic -no-reboot \
    -kernel "$amd64_vmlinuz" -initrd $build/x86_64/initramfs.cpio \
    -append "console=ttyS0 panic=-1 quiet" </dev/null >$build/vm-x86_64.log 2>&1 &
x86_vm=$!
timeout "$vm_seconds" qemu-system-aarch64 -M virt -cpu cortex-a57 -accel tcg -smp 2 -m 1G -nographic -no-reboot \
    -kernel "$arm64_vmlinuz" -initrd $build/aarch64/initramfs.cpio \
    -append "console=ttyAMA0 panic=-1 quiet" </dev/null >$build/vm-aarch64.log 2>&1 &
arm_vm=$!
$build/x86_64/init "$PWD/$build/x86_64/kmtests" >$build/host.log 2>&1 || true
wait $x86_vm || true
wait $arm_vm || true
echo "kernel-matrix: both VMs done in $((SECONDS - boot_started)) s"

# ---- one line per kernel and test ----
status=0
for run in host vm-x86_64 vm-aarch64; do
    # The console may carry escape sequences and carriage returns around our lines.
    lines=$(grep -a -o 'KM[A-Z-]* .*' $build/$run.log | tr -d '\r' || true)
    grep '^KMINFO ' <<<"$lines" | cut -d' ' -f2- || true
    grep '^KM ' <<<"$lines" | cut -d' ' -f2- || true
    if ! grep -q '^KM-END ' <<<"$lines"; then
        echo "$run: FAIL did not report all its tests within ${vm_seconds} s; its console ended with:"
        tail -n 5 $build/$run.log | tr -cd '[:print:]\n' | sed 's/^/    /'
        status=1
    fi
    if grep -q '^KM .* FAIL' <<<"$lines"; then status=1; fi
done
grep -a -h -o 'KM-END .*' $build/host.log $build/vm-*.log | tr -d '\r' | sed 's/^KM-END /kernel-matrix: /'
exit $status
