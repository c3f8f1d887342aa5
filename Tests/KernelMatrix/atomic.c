// The atomic view (strict mode): once any thread runs application code with the new state, no
// thread runs application code with the old. Spinning threads read their own effective gid
// with the raw syscall, after reading the highest gid any thread has seen; a broadcast raises
// the gid every round, so seeing a lower gid than one already seen is a violation.
#define _GNU_SOURCE
#include "km.h"

#include <CWorkload.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KM_ATOMIC_SPINNERS 4
#define KM_ATOMIC_IDLE 16
#define KM_ATOMIC_ROUNDS 30
#define KM_ATOMIC_FIRST_GID 7000
#define KM_SPINNER_STACK (256 * 1024)
/// The bound on waiting for every spinner to run between two rounds (TCG is slow).
#define KM_SPINNER_SECONDS 30

static _Atomic long highest_seen;
static _Atomic int stop;
static _Atomic unsigned long violations, observations;
static _Atomic long violation_seen, violation_had;
/// Each spinner's latest own gid, so the caller starts a round only once all are running.
static _Atomic long latest[KM_ATOMIC_SPINNERS];

/// Records `gid` as seen, unless a higher one already was.
static void see(long gid) {
    long seen = atomic_load(&highest_seen);
    while (gid > seen && !atomic_compare_exchange_weak(&highest_seen, &seen, gid)) {}
}

/// One observation: the highest gid seen so far, then this thread's own (order matters: a
/// thread that read the highest first and its own gid after must have the new one).
static long observe(void) {
    long before = atomic_load(&highest_seen);
    long mine = syscall(SYS_getegid);
    if (mine < before) {
        if (!atomic_fetch_add(&violations, 1)) {
            atomic_store(&violation_seen, before);
            atomic_store(&violation_had, mine);
        }
    } else {
        see(mine);
    }
    atomic_fetch_add_explicit(&observations, 1, memory_order_relaxed);
    return mine;
}

static void *spin(void *arg) {
    _Atomic long *mine = arg;
    ts_set_name("km-spinner");
    // Yielding after each observation interleaves the spinners at a fine grain on few CPUs, so
    // one that has changed and one that has not both run inside a broadcast's window.
    while (!atomic_load(&stop)) {
        atomic_store(mine, observe());
        sched_yield();
    }
    return NULL;
}

int km_test_atomic(bool relaxed) {
    // Idle threads between the spinners (in tid order, the order of /proc/self/task) widen the
    // time between signalling one spinner and the next.
    pthread_t spinners[KM_ATOMIC_SPINNERS];
    for (int i = 0; i < KM_ATOMIC_SPINNERS; i++) {
        if (km_start_idle_threads(KM_ATOMIC_IDLE / KM_ATOMIC_SPINNERS) != 0) return km_fail("could not start threads");
        if (ts_spawn(&spinners[i], spin, &latest[i], KM_SPINNER_STACK, 0) != 0) return km_fail("could not start spinners");
    }
    cb_options options = km_options(relaxed);
    int failed = 0;
    char why[600] = "";
    long gid = 0;
    for (int i = 0; i < KM_ATOMIC_ROUNDS && !failed; i++) {
        // Every spinner has run since the last broadcast (a bounded wait, not a timing assert).
        struct timespec deadline, left;
        ts_deadline_after(&deadline, KM_SPINNER_SECONDS);
        for (int s = 0; s < KM_ATOMIC_SPINNERS && !failed; s++)
            while (atomic_load(&latest[s]) != gid && !failed)
                if (ts_time_left(&deadline, &left)) sched_yield();
                else {
                    failed = 1;
                    snprintf(why, sizeof why, "round %d: spinner %d never ran with gid %ld", i, s, gid);
                }
        if (failed) break;
        gid = KM_ATOMIC_FIRST_GID + i;
        long args[6] = {gid, gid, gid};
        cb_report report;
        cb_broadcast(SYS_setresgid, args, &options, &report);
        if (report.status != CB_OK) {
            failed = 1;
            snprintf(why, sizeof why, "round %d: %s", i, km_describe(&report));
        }
        cb_report_free(&report);
        observe();  // the caller runs application code too
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < KM_ATOMIC_SPINNERS; i++) pthread_join(spinners[i], NULL);
    if (failed) return km_fail("%s", why);
    if (atomic_load(&violations))
        return km_fail("%lu observations of an old gid after a newer one was seen (had %ld, seen %ld)",
                       atomic_load(&violations), atomic_load(&violation_had), atomic_load(&violation_seen));
    km_census c = km_check_threads("Gid", km_ids(KM_ATOMIC_FIRST_GID + KM_ATOMIC_ROUNDS - 1));
    if (c.wrong) return km_fail("final gid: %d threads wrong (tid %d %s)", c.wrong, c.first_wrong, c.wrong_line);
    return km_pass("%d broadcasts under %d spinning threads, %lu observations, none saw an old gid after a new one",
                   KM_ATOMIC_ROUNDS, KM_ATOMIC_SPINNERS, atomic_load(&observations));
}
