#!/usr/bin/env bash
# Writes scripts/startup-order.txt, the functions the command runs when it starts, changes one
# thread and execs (`allthreads setresuid 65534 65534 65534 -- /bin/true`), which
# scripts/release-build.sh asks the linker to place next to each other. The kernel maps an
# executable's code 64 KiB around each page touched, so functions spread over the whole binary
# make the resident set several times the code that runs (docs/benchmark.md, "Command start-up").
# A small C tracer single-steps the command up to its exec and records every instruction address
# inside the executable; nm names the functions. Slow (about 15 minutes: every instruction is a
# ptrace stop); run it again after changes to what the command runs at start-up. A stale list
# only costs memory: names the linker does not find are skipped.
#   scripts/startup-order.sh [ALLTHREADS]   (default: the release build, built first)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "startup-order.sh: run it as root (the command changes uids)" >&2; exit 2; }
program=${1:-$(bash scripts/release-build.sh)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/trace.c" <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* trace ARGV...: single-steps ARGV from its first instruction to its next exec and prints, in
   hex, the offset from the executable's load address of every 16-byte granule of its mappings
   that an instruction ran in (once each, in address order). */
enum { granule = 16 };

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    pid_t pid = fork();
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execv(argv[1], argv + 1);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) return 1;  // stopped at its exec
    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
    char path[64], executable[4096], line[4096 + 128];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t length = readlink(path, executable, sizeof executable - 1);
    if (length < 0) return 1;
    executable[length] = 0;
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *maps = fopen(path, "r");
    unsigned long low = 0, high = 0, start, end;
    while (maps && fgets(line, sizeof line, maps))
        if (strstr(line, executable) && sscanf(line, "%lx-%lx", &start, &end) == 2) {
            if (low == 0) low = start;
            high = end;
        }
    if (maps) fclose(maps);
    if (low == 0) return 1;
    unsigned char *ran = calloc((high - low) / granule, 1);
    for (;;) {
        if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) != 0 || waitpid(pid, &status, 0) != pid) break;
        if (!WIFSTOPPED(status) || status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) break;
        struct user_regs_struct registers;
        ptrace(PTRACE_GETREGS, pid, 0, &registers);
        unsigned long address = registers.rip;  // x86_64 only, as the tracer runs here
        if (address >= low && address < high) ran[(address - low) / granule] = 1;
    }
    kill(pid, SIGKILL);
    for (unsigned long index = 0; index < (high - low) / granule; index++)
        if (ran[index]) printf("%lx\n", index * granule);
    return 0;
}
C
gcc -O2 -o "$work/trace" "$work/trace.c"
"$work/trace" "$program" setresuid 65534 65534 65534 -- /bin/true >"$work/ran"
nm -n --defined-only "$program" >"$work/symbols"
python3 - "$work/ran" "$work/symbols" >scripts/startup-order.txt <<'PY'
import bisect, sys

# Function symbols by address; an offset belongs to the last one at or below it.
functions = []
for line in open(sys.argv[2]):
    fields = line.split(None, 2)
    if len(fields) == 3 and fields[1] in "tTwW":
        functions.append((int(fields[0], 16), fields[2].strip()))
functions.sort()
addresses = [address for address, _ in functions]
seen = set()
for line in open(sys.argv[1]):
    index = bisect.bisect_right(addresses, int(line, 16)) - 1
    if index >= 0 and functions[index][1] not in seen:
        seen.add(functions[index][1])
        print(functions[index][1])
PY
echo "scripts/startup-order.txt: $(wc -l <scripts/startup-order.txt) functions" >&2
