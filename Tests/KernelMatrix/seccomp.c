// Seccomp with the kernel's own thread sync (cb_seccomp_load_tsync): the filter lands on every
// thread at once (Seccomp_filters in each thread's /proc status, and a broadcast probe that
// every thread gets EPERM from the denied call); then a thread with a filter of its own makes
// the sync fail with its tid, and no thread changed. The engine's modes do not apply (TSYNC is
// the kernel's); the test runs in strict mode only.
#define _GNU_SOURCE
#include "km.h"

#include <CWorkload.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#define KM_SECCOMP_THREADS 4

/// A filter that fails `call` with EPERM and allows every other call (a test filter: it does
/// not check seccomp_data.arch, which a real one must).
#define KM_DENY(call)                                                                 \
    {                                                                                 \
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),        \
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (call), 0, 1),                              \
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),    \
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),                                 \
    }

int km_test_seccomp(bool relaxed) {
    if (km_start_idle_threads(KM_SECCOMP_THREADS) != 0) return km_fail("could not start threads");
    static const struct sock_filter deny_getppid[] = KM_DENY(SYS_getppid);
    long r = cb_seccomp_load_tsync(deny_getppid, sizeof deny_getppid);
    if (r != 0) return km_fail("TSYNC load: %ld", r);
    km_census filters = km_check_threads("Seccomp_filters", "1");
    km_census mode = km_check_threads("Seccomp", "2");
    if (filters.wrong || mode.wrong || filters.matched != KM_SECCOMP_THREADS + 1)
        return km_fail("after TSYNC: %d threads with 1 filter, %d wrong (tid %d %s); mode wrong on %d",
                       filters.matched, filters.wrong, filters.first_wrong, filters.wrong_line, mode.wrong);
    cb_step probe = {.nr = SYS_getppid, .expect = CB_EXPECT_VALUE, .value = -EPERM};
    cb_options options = km_options(relaxed);
    cb_report report;
    cb_broadcast_steps(&probe, 1, &options, &report);
    bool probed = report.status == CB_OK && report.threads == KM_SECCOMP_THREADS + 1;
    char why[600];
    snprintf(why, sizeof why, "%s", km_describe(&report));
    cb_report_free(&report);
    if (!probed) return km_fail("getppid probe on every thread: %s", why);

    // A thread whose own filter the caller's does not descend from: the sync must fail.
    int odd = cw_start_seccomp_errno_thread(SYS_getpgid, EACCES);
    if (odd < 0) return km_fail("thread with its own filter: %s", strerror(-odd));
    static const struct sock_filter deny_getsid[] = KM_DENY(SYS_getsid);
    r = cb_seccomp_load_tsync(deny_getsid, sizeof deny_getsid);
    if (r != odd) return km_fail("TSYNC against a thread with its own filter returned %ld, not its tid %d", r, odd);
    filters = km_check_threads("Seccomp_filters", "1");
    if (filters.wrong != 1 || filters.first_wrong != odd || filters.matched != KM_SECCOMP_THREADS + 1)
        return km_fail("after the refused sync: %d threads with 1 filter, %d others (tid %d %s)", filters.matched,
                       filters.wrong, filters.first_wrong, filters.wrong_line);
    return km_pass("%d threads: filter synced (Seccomp_filters 1 each, getppid EPERM on each); "
                   "sync refused with the tid of the thread with its own filter, nothing changed",
                   KM_SECCOMP_THREADS + 1);
}
