// The kernel facts the engine and its tests depend on, one "name value" line each, so the
// matrix shows what differs between kernels: Landlock's ABI, io_uring, membarrier, clone3,
// rt_tgsigqueueinfo, the TIOCSTI switch, the task count /proc gives, the status fields.
#define _GNU_SOURCE
#include "km.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/// landlock_create_ruleset's flag that asks for the ABI version.
#define KM_LANDLOCK_CREATE_RULESET_VERSION 1u

/// "ok", or the errno's name: what a raw call returned.
static const char *outcome(long r) {
    static char text[64];
    if (r >= 0) snprintf(text, sizeof text, "%ld", r);
    else snprintf(text, sizeof text, "-%s", strerrorname_np((int)-r));
    return text;
}

static long raw(long r) { return r < 0 ? -errno : r; }

static void print_file(const char *name, const char *path) {
    char text[128] = "absent";
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(text, sizeof text, f)) snprintf(text, sizeof text, "unreadable");
        text[strcspn(text, "\n")] = 0;
        fclose(f);
    }
    printf("%s %s\n", name, text);
}

/// Prints the names of the "name:" lines of `path`, comma-separated.
static void print_fields(const char *label, const char *path) {
    FILE *f = fopen(path, "r");
    char line[512], fields[2048] = "";
    size_t n = 0;
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (colon && colon - line < 40 && n < sizeof fields - 64)
            n += (size_t)snprintf(fields + n, sizeof fields - n, "%s%.*s", n ? "," : "", (int)(colon - line), line);
    }
    if (f) fclose(f);
    printf("%s %s\n", label, f ? fields : "unreadable");
}

int km_probe(void) {
    printf("landlock_abi %s\n", outcome(raw(syscall(SYS_landlock_create_ruleset, NULL, 0,
                                                    KM_LANDLOCK_CREATE_RULESET_VERSION))));
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    long ring = raw(syscall(SYS_io_uring_setup, 1, &params));
    printf("io_uring_setup %s features=%#x\n", ring >= 0 ? "ok" : outcome(ring), params.features);
    if (ring >= 0) close((int)ring);
    // An SQPOLL ring's fdinfo names its kernel thread (SqThread:) on the kernels that have it.
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_SQPOLL;
    ring = raw(syscall(SYS_io_uring_setup, 1, &params));
    if (ring >= 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fdinfo/%ld", ring);
        print_fields("io_uring_fdinfo_fields", path);
        close((int)ring);
    }
    print_file("sysctl_io_uring_disabled", "/proc/sys/kernel/io_uring_disabled");
    printf("membarrier_query %#lx\n", raw(syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0)));
    // clone3 with a NULL argument: EFAULT or EINVAL where it exists, ENOSYS where not.
    printf("clone3 %s\n", outcome(raw(syscall(SYS_clone3, NULL, 0))));
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    printf("rt_tgsigqueueinfo_sig0 %s\n",
           outcome(raw(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), 0, &info))));
    print_file("sysctl_legacy_tiocsti", "/proc/sys/dev/tty/legacy_tiocsti");
    print_file("sysctl_unprivileged_userfaultfd", "/proc/sys/vm/unprivileged_userfaultfd");
    print_file("pid_max", "/proc/sys/kernel/pid_max");
    // The engine counts threads by the link count of /proc/self/task (2 + threads).
    km_start_idle_threads(2);
    struct stat st;
    long nlink = stat("/proc/self/task", &st) == 0 ? (long)st.st_nlink : -errno;
    FILE *f = fopen("/proc/self/status", "r");
    char line[512];
    long threads = -1;
    while (f && fgets(line, sizeof line, f)) sscanf(line, "Threads: %ld", &threads);
    if (f) fclose(f);
    printf("task_nlink %ld threads %ld (%s)\n", nlink, threads, nlink == threads + 2 ? "nlink = 2 + Threads" : "DIFFERS");
    print_fields("status_fields", "/proc/self/status");
    fflush(stdout);
    return 0;
}
