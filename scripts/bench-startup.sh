#!/usr/bin/env bash
# The command's start-up against setpriv: `allthreads setresuid 65534 65534 65534 -- /bin/true`
# and `setpriv --reuid=65534 --regid=65534 --clear-groups /bin/true`, each a fresh process,
# alternated, release build. Prints, for each, the median and p90 of wall time, CPU time
# (user + system, steadier than wall time on a shared machine) and max RSS, their ratios to
# setpriv's, and the shared libraries the executable loads. Needs root (it changes uids).
#   scripts/bench-startup.sh [--runs N] [--allthreads PATH]...   (default 31 runs of each, the release build as
#   scripts/install.sh makes it; several --allthreads compare builds with each other in the same run)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=31
allthreads=()
while (($#)); do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --allthreads) allthreads+=("$2"); shift 2 ;;
    *) echo "usage: scripts/bench-startup.sh [--runs N] [--allthreads PATH]..." >&2; exit 2 ;;
    esac
done
if ((${#allthreads[@]} == 0)); then
    bash scripts/deps.sh
    release=$(bash scripts/release-build.sh)
    allthreads=("$release")
fi
[[ $(id -u) == 0 ]] || { echo "bench-startup.sh: run it as root (both commands change uids)" >&2; exit 2; }
# Shared libraries the dynamic linker maps (ldd's list without the vDSO).
for build in "${allthreads[@]}"; do
    libraries=$(ldd "$build" 2>/dev/null | grep -vc "linux-vdso\|statically linked" || true)
    echo "allthreads: $build, $(stat -c %s "$build") bytes, $libraries shared libraries loaded"
done
# The launcher is a small C program, not the shell or Python: a child's max RSS counts what it
# held before exec (the forked launcher's pages), which must stay below either command's own.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/launch.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* launch ARGV...: runs it once in a new session (no controlling terminal) with its standard
   descriptors on /dev/null; prints "wall_ns cpu_ns max_rss_kib". Off any terminal, allthreads
   runs the command in its own process, as setpriv does, whether or not the benchmark runs in one
   (on a terminal it forks first, to keep the command off it). */
int main(int argc, char **argv) {
    if (argc < 2) return 2;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        setsid();
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[1], argv + 1);
        _exit(127);
    }
    int status;
    struct rusage usage;
    if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) return 2;
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s did not exit 0 (status %#x)\n", argv[1], status);
        return 1;
    }
    long long cpu = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL
        + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
    printf("%lld %lld %ld\n", (end.tv_sec - start.tv_sec) * 1000000000LL + end.tv_nsec - start.tv_nsec, cpu,
        usage.ru_maxrss);
    return 0;
}
C
gcc -O2 -o "$work/launch" "$work/launch.c"
python3 - "$runs" "$work/launch" "${allthreads[@]}" <<'EOF'
import subprocess, sys

runs, launch, builds = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
# One build is "allthreads"; several are told apart by their paths.
commands = {
    ("allthreads" if len(builds) == 1 else build): [build, "setresuid", "65534", "65534", "65534", "--", "/bin/true"]
    for build in builds
}
commands["setpriv"] = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/true"]
width = max(map(len, commands))

def run(argv):
    """One fresh process: wall ns, CPU ns (user + system), max RSS KiB."""
    return [int(word) for word in subprocess.run([launch, *argv], check=True, capture_output=True, text=True).stdout.split()]

samples = {name: [] for name in commands}
for name, argv in commands.items():  # warm the page cache
    run(argv)
for _ in range(runs):  # alternated, so both see the same load
    for name, argv in commands.items():
        samples[name].append(run(argv))

def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

def figures(name, column):
    values = [sample[column] for sample in samples[name]]
    return quantile(values, 0.5), quantile(values, 0.9)

print(f"{runs} alternated runs of each; median / p90 (ratio to setpriv)")
for column, label, scale, unit in [(0, "wall", 1e6, "ms"), (1, "cpu ", 1e6, "ms"), (2, "rss ", 1024, "MiB")]:
    base = figures("setpriv", column)
    for name in commands:
        median, p90 = figures(name, column)
        print(f"  {label} {name:{width}} {median / scale:7.2f} / {p90 / scale:7.2f} {unit}"
              f"   ({median / base[0]:.2f}x / {p90 / base[1]:.2f}x)")
EOF
