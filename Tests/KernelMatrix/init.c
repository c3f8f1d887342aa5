// The kernel matrix's runner. As the /init of a throwaway VM (pid 1) it mounts /proc, /sys and
// /dev, runs /kmtests once per test and mode, each in its own process with a deadline, prints
// one line per test and powers off. On a host, `kminit <path to kmtests>` does the same without
// the mounts and the power-off, and exits 1 if a test failed.
//
// Lines: "KMINFO <kernel> <arch> <fact> <value>" for each kernel fact (kmtests probe),
//        "KM <kernel> <arch> <test>/<mode> PASS|FAIL|SKIP <detail>" for each test, and
//        "KM-END <kernel> <arch> pass=<n> fail=<n> skip=<n>" once all ran.
#define _GNU_SOURCE
#include "km.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/// The deadline of one test process (TCG runs a guest 10-50 times slower than the host).
#define KM_TEST_SECONDS 180
#define KM_OUTPUT_BYTES 4096

static struct utsname host;

/// Runs `tests` with `argv`, its stdout captured into `out`, for at most KM_TEST_SECONDS.
/// Returns the wait status, or -1 when it was killed at the deadline.
static int run(const char *tests, char *const argv[], char *out, size_t size) {
    int fds[2];
    out[0] = 0;
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        dup2(fds[1], STDOUT_FILENO);
        execv(tests, argv);
        printf("FAIL exec %s: %s\n", tests, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    bool killed = false;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left_ms = (KM_TEST_SECONDS - (now.tv_sec - start.tv_sec)) * 1000L;
        if (left_ms <= 0) {
            kill(child, SIGKILL);
            killed = true;
            break;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        if (poll(&p, 1, (int)left_ms) <= 0) continue;
        ssize_t n = read(fds[0], out + used, size - 1 - used);
        if (n <= 0) break;  // end of output: the test exited (or closed stdout)
        used += (size_t)n;
        if (used == size - 1) used = 0;  // full: start over, the last line is what counts
    }
    out[used] = 0;
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    return killed ? -1 : status;
}

/// The last non-empty line of `text`, without its newline.
static const char *last_line(char *text) {
    size_t n = strlen(text);
    while (n && text[n - 1] == '\n') text[--n] = 0;
    char *line = strrchr(text, '\n');
    return line ? line + 1 : text;
}

static void probe(const char *tests) {
    char out[KM_OUTPUT_BYTES];
    char *argv[] = {"kmtests", "probe", NULL};
    run(tests, argv, out, sizeof out);
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
        printf("KMINFO %s %s %s\n", host.release, host.machine, line);
}

static int counts[3];  // pass, fail, skip

static void test(const char *tests, const char *name, const char *mode) {
    char out[KM_OUTPUT_BYTES];
    char *argv[] = {"kmtests", (char *)name, (char *)mode, NULL};
    int status = run(tests, argv, out, sizeof out);
    const char *line = last_line(out);
    int code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    bool agrees = (code == KM_PASS && strncmp(line, "PASS", 4) == 0) ||
                  (code == KM_SKIP && strncmp(line, "SKIP", 4) == 0) ||
                  (code == KM_FAIL && strncmp(line, "FAIL", 4) == 0);
    printf("KM %s %s %s/%s ", host.release, host.machine, name, mode);
    if (agrees) printf("%s\n", line);
    else if (status < 0) printf("FAIL killed after %d s: %s\n", KM_TEST_SECONDS, line);
    else if (WIFSIGNALED(status)) printf("FAIL died of signal %d: %s\n", WTERMSIG(status), line);
    else printf("FAIL exit status %d: %s\n", code, line);
    counts[!agrees ? 1 : code == KM_PASS ? 0 : code == KM_SKIP ? 2 : 1]++;
    fflush(stdout);
}

/// pid 1 of a VM: the file systems the tests read, and the console as stdio.
static void boot(void) {
    mkdir("/proc", 0555);
    mkdir("/sys", 0555);
    mkdir("/dev", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    int console = open("/dev/console", O_RDWR | O_NOCTTY);
    if (console >= 0) {
        for (int fd = 0; fd < 3; fd++) dup2(console, fd);
        if (console > 2) close(console);
    }
}

int main(int argc, char **argv) {
    bool vm = getpid() == 1;
    const char *tests = vm ? "/kmtests" : argc == 2 ? argv[1] : NULL;
    if (!tests) {
        fprintf(stderr, "usage: kminit <path to kmtests> (as pid 1: /kmtests)\n");
        return 2;
    }
    if (vm) boot();
    uname(&host);
    probe(tests);
#define KM_RUN(name, modes)                                   \
    if ((modes) & KM_STRICT) test(tests, #name, "strict");    \
    if ((modes) & KM_RELAXED) test(tests, #name, "relaxed");
    KM_TESTS(KM_RUN)
#undef KM_RUN
    printf("KM-END %s %s pass=%d fail=%d skip=%d\n", host.release, host.machine, counts[0], counts[1], counts[2]);
    fflush(stdout);
    if (!vm) return counts[1] ? 1 : 0;
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
