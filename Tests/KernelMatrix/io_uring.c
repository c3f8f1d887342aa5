// io_uring workers: a ring with a read forced to a worker (iou-wrk-*) and an SQPOLL ring
// (iou-sqp-*). They take no signals and run no application code: the broadcast must skip them,
// name each in its report, and still change every other thread.
#define _GNU_SOURCE
#include "km.h"

#include <CFaults.h>
#include <CWorkload.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#define PF_IO_WORKER 0x00000010L
#define KM_IO_GID 7100
#define KM_MAX_WORKERS 16
/// The bound on waiting for the worker thread to appear (TCG is slow).
#define KM_WORKER_SECONDS 30

typedef struct worker {
    pid_t tid;
    long flags;
    char name[32];
} worker;

static int find_workers(worker *workers, int max) {
    int n = 0;
    DIR *dir = opendir("/proc/self/task");
    if (!dir) return -errno;
    struct dirent *entry;
    while ((entry = readdir(dir)) && n < max) {
        if (entry->d_name[0] == '.') continue;
        pid_t tid = atoi(entry->d_name);
        long flags = km_task_flags(tid);
        if (flags < 0 || !(flags & PF_IO_WORKER)) continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
        FILE *f = fopen(path, "r");
        workers[n] = (worker){.tid = tid, .flags = flags};
        if (f) {
            if (fgets(workers[n].name, sizeof workers[n].name, f)) workers[n].name[strcspn(workers[n].name, "\n")] = 0;
            fclose(f);
        }
        n++;
    }
    closedir(dir);
    return n;
}

static bool all_named(const worker *workers, int count) {
    for (int i = 0; i < count; i++)
        if (strncmp(workers[i].name, "iou-", 4) != 0) return false;
    return true;
}

int km_test_io_uring(bool relaxed) {
    if (km_start_idle_threads(3) != 0) return km_fail("could not start threads");
    int ring = cw_start_io_uring_worker();
    if (ring == -ENOSYS || ring == -EPERM || ring == -EACCES)
        return km_skip("io_uring_setup: %s", strerror(-ring));
    if (ring < 0) return km_fail("io_uring worker: %s", strerror(-ring));
    int sqpoll = cw_ring_create(CW_RING_SQPOLL);
    // Bounded wait for the worker (and the SQPOLL thread) to show in /proc/self/task.
    worker workers[KM_MAX_WORKERS];
    int count = 0;
    struct timespec deadline, left;
    ts_deadline_after(&deadline, KM_WORKER_SECONDS);
    // A worker takes its name (iou-wrk-<pid>, iou-sqp-<pid>) once it first runs: until then it
    // shows its creator's. The engine goes by PF_IO_WORKER; the wait is for a readable report.
    while (((count = find_workers(workers, KM_MAX_WORKERS)) < (sqpoll >= 0 ? 2 : 1) || !all_named(workers, count)) &&
           ts_time_left(&deadline, &left))
        cw_sleep_ns(1000000);
    if (count <= 0) return km_fail("no io_uring worker appeared in /proc/self/task");

    cb_options options = km_options(relaxed);
    long args[6] = {KM_IO_GID, KM_IO_GID, KM_IO_GID};
    cb_report report;
    cb_broadcast(SYS_setresgid, args, &options, &report);
    char why[600] = "";
    if (report.status != CB_OK) snprintf(why, sizeof why, "%s", km_describe(&report));
    for (int i = 0; i < count && !why[0]; i++) {
        bool named = false;
        for (uint32_t p = 0; p < report.problem_count; p++) {
            const cb_problem *problem = &report.problems[p];
            named |= problem->tid == workers[i].tid && problem->kind == CB_PROBLEM_SKIPPED &&
                     problem->reason == CB_REASON_IO_WORKER;
        }
        if (!named) snprintf(why, sizeof why, "worker %d (%s) not reported skipped: %s", workers[i].tid,
                             workers[i].name, km_describe(&report));
    }
    uint32_t threads = report.threads;
    cb_report_free(&report);
    if (why[0]) return km_fail("%s", why);
    km_census c = km_check_threads("Gid", km_ids(KM_IO_GID));
    if (c.wrong || c.matched != (int)threads)
        return km_fail("kernel view: %d of %u threads changed, %d wrong (tid %d %s)", c.matched, threads, c.wrong,
                       c.first_wrong, c.wrong_line);
    char names[256] = "";
    size_t n = 0;
    for (int i = 0; i < count && n < sizeof names - 48; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s(flags=%#lx)", i ? "," : "", workers[i].name,
                              workers[i].flags);
    return km_pass("%u threads changed, %d io_uring workers skipped and named: %s%s", threads, count, names,
                   sqpoll >= 0 ? "" : " (no SQPOLL ring)");
}
