// Forged signals: signal 33 with si_code SI_QUEUE, sent to every thread by another process
// (claiming our pid) and by this one, with values that are not the live token, must not run
// the call. The last real program set euid 8000; glibc's own setresuid then put every thread
// back to euid 0, so a thread that replayed the program would show euid 8000 in /proc.
#define _GNU_SOURCE
#include "km.h"

#include <CFaults.h>
#include <cb_statistics.h>
#include <CWorkload.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define KM_FORGED_THREADS 4
#define KM_STALE_EUID 8000
#define KM_MAX_TIDS 64
/// Values a forger might try: zero, small slot numbers, all ones, a pattern.
static const unsigned long long forged_values[] = {0, 1, 2, 7, 0xffffffffffffffffull, 0xdeadbeefcafef00dull};
#define KM_FORGED_VALUES (sizeof forged_values / sizeof forged_values[0])
/// The bound on waiting for the forged signals to be taken (TCG is slow).
#define KM_DELIVERY_SECONDS 30

static int list_tids(pid_t *tids, int max) {
    int n = 0;
    DIR *dir = opendir("/proc/self/task");
    if (!dir) return -errno;
    struct dirent *entry;
    while ((entry = readdir(dir)) && n < max)
        if (entry->d_name[0] != '.') tids[n++] = atoi(entry->d_name);
    closedir(dir);
    return n;
}

/// Sends every forged value to every tid; returns how many were queued, or -errno.
static long forge_all(pid_t pid, const pid_t *tids, int count) {
    long sent = 0;
    for (int i = 0; i < count; i++)
        for (size_t v = 0; v < KM_FORGED_VALUES; v++) {
            int r = cw_forge_signal(pid, tids[i], CB_DEFAULT_SIGNAL, pid, forged_values[v]);
            if (r < 0) return r;
            sent++;
        }
    return sent;
}

/// Threads of `tids` that still have the signal pending (SigPnd bit of /proc/self/task/<tid>/status).
static int still_pending(const pid_t *tids, int count) {
    int pending = 0;
    for (int i = 0; i < count; i++) {
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%d/status", tids[i]);
        FILE *f = fopen(path, "r");
        if (!f) continue;  // gone
        unsigned long long mask = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "SigPnd: %llx", &mask) == 1) break;
        fclose(f);
        if (mask >> (CB_DEFAULT_SIGNAL - 1) & 1) pending++;
    }
    return pending;
}

int km_test_forged(bool relaxed) {
    if (km_start_idle_threads(KM_FORGED_THREADS) != 0) return km_fail("could not start threads");
    cb_options options = km_options(relaxed);
    long args[6] = {0, KM_STALE_EUID, 0};
    cb_report report;
    cb_broadcast(SYS_setresuid, args, &options, &report);
    int status = report.status;
    cb_report_free(&report);
    if (status != CB_OK) return km_fail("setup broadcast: status %d", status);
    // glibc's own broadcast (SIGSETXID, si_code SI_TKILL) must still reach glibc's handler.
    int glibc = cw_glibc_setresuid(0, 0, 0);
    if (glibc != 0) return km_fail("glibc setresuid after ours: %s", strerror(-glibc));
    km_census back = km_check_threads("Uid", km_ids(0));
    if (back.wrong) return km_fail("glibc's setresuid missed tid %d (%s)", back.first_wrong, back.wrong_line);

    pid_t tids[KM_MAX_TIDS];
    int count = list_tids(tids, KM_MAX_TIDS);
    if (count <= 0) return km_fail("cannot list threads");
    cb_stats before, after;
    cb_get_stats(&before);

    pid_t pid = getpid();
    pid_t child = fork();
    if (child < 0) return km_fail("fork: %s", strerror(errno));
    if (child == 0) _exit(forge_all(pid, tids, count) == (long)(count * KM_FORGED_VALUES) ? 0 : 1);
    int child_status;
    if (waitpid(child, &child_status, 0) != child || !WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0)
        return km_fail("the forging process could not queue its signals");
    long own = forge_all(pid, tids, count);
    if (own < 0) return km_fail("rt_tgsigqueueinfo from this process: %s", strerror((int)-own));
    long sent = 2 * own;

    // Bounded wait until every forged signal was taken and its handler has counted it.
    struct timespec deadline, left;
    ts_deadline_after(&deadline, KM_DELIVERY_SECONDS);
    int pending;
    uint64_t ran, passed;
    for (;;) {
        pending = still_pending(tids, count);
        cb_get_stats(&after);
        ran = after.handler_runs - before.handler_runs;
        passed = after.not_ours - before.not_ours;
        if ((pending == 0 && passed >= (uint64_t)sent) || !ts_time_left(&deadline, &left)) break;
        cw_sleep_ns(1000000);
    }
    if (pending) return km_fail("%d threads still have forged signals pending", pending);
    km_census c = km_check_threads("Uid", km_ids(0));
    if (c.wrong) return km_fail("a forged signal replayed the call: tid %d %s", c.first_wrong, c.wrong_line);
    if (ran || passed != (uint64_t)sent)
        return km_fail("%ld forged signals: handler ran the call %llu times, passed on %llu", sent,
                       (unsigned long long)ran, (unsigned long long)passed);

    long gid_args[6] = {8100, 8100, 8100};
    cb_broadcast(SYS_setresgid, gid_args, &options, &report);
    status = report.status;
    cb_report_free(&report);
    km_census after_gid = km_check_threads("Gid", km_ids(8100));
    if (status != CB_OK || after_gid.wrong) return km_fail("broadcast after forging: status %d", status);
    return km_pass("%ld forged SI_QUEUE signals (another process and this one) to %d threads: none ran the call; "
                   "glibc's setresuid still reaches every thread",
                   sent, count);
}
