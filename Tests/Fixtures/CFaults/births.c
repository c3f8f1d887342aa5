// Births: a thread that starts a short-lived pthread every few hundred
// microseconds. Each child checks its own effective gid, at birth and just
// before it exits, against the value the broadcaster last published as settled:
// a child cloned by a thread that had not yet run a broadcast's call, and then
// missed by that broadcast, holds the old gid after the broadcast reported
// success. The children check themselves because they live too briefly for a
// /proc read after each broadcast to catch them.
#define _GNU_SOURCE
#include "CFaults.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/// Upper bound on waiting for the birther to stop.
#define CW_BIRTHS_JOIN_SECONDS 5

static pthread_mutex_t births_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t birther;           // guarded by births_lock
static int births_running;          // guarded by births_lock
static int births_stopping;         // atomic
static long births_period_ns, births_life_ns;

// A seqlock: odd while a broadcast is in flight, even when `settled_gid` holds.
static uint64_t settle_seq;         // atomic
static unsigned settled_gid;        // atomic
static unsigned long born, checked, wrong;  // atomic

// Only the broadcasting thread writes the sequence: odd and new while it broadcasts,
// even and new once the gid is settled.
void cw_births_unsettle(void) {
    uint64_t s = __atomic_load_n(&settle_seq, __ATOMIC_RELAXED);
    __atomic_store_n(&settle_seq, (s + 2) | 1, __ATOMIC_SEQ_CST);
}

void cw_births_settle(unsigned gid) {
    __atomic_store_n(&settled_gid, gid, __ATOMIC_RELAXED);
    uint64_t s = __atomic_load_n(&settle_seq, __ATOMIC_RELAXED);
    __atomic_store_n(&settle_seq, (s | 1) + 1, __ATOMIC_SEQ_CST);
}

// Compares this thread's effective gid with the settled one, unless a
// broadcast started (or was in flight) around the read.
static void check_self(void) {
    uint64_t before = __atomic_load_n(&settle_seq, __ATOMIC_ACQUIRE);
    if (before & 1) return;
    unsigned expected = __atomic_load_n(&settled_gid, __ATOMIC_RELAXED);
    unsigned actual = (unsigned)syscall(SYS_getegid);  // raw: this thread's own credentials
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&settle_seq, __ATOMIC_RELAXED) != before) return;
    __atomic_add_fetch(&checked, 1, __ATOMIC_RELAXED);
    if (actual != expected) __atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
}

static void *child(void *arg) {
    (void)arg;
    ts_set_name("wl-birth");
    check_self();
    cw_sleep_ns(births_life_ns);
    check_self();
    return NULL;
}

static void *birth_loop(void *arg) {
    (void)arg;
    ts_set_name("wl-birther");
    while (!__atomic_load_n(&births_stopping, __ATOMIC_ACQUIRE)) {
        pthread_t t;
        if (ts_spawn(&t, child, NULL, TS_STACK_BYTES, 1) == 0) __atomic_add_fetch(&born, 1, __ATOMIC_RELAXED);
        cw_sleep_ns(births_period_ns);
    }
    return NULL;
}

int cw_births_start(long period_us, long life_us, unsigned current_gid) {
    if (period_us < 1 || life_us < 0 || period_us > 1000000 || life_us > 1000000) return -EINVAL;
    pthread_mutex_lock(&births_lock);
    if (births_running) {
        pthread_mutex_unlock(&births_lock);
        return -EBUSY;
    }
    births_period_ns = period_us * 1000;
    births_life_ns = life_us * 1000;
    __atomic_store_n(&born, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&checked, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&wrong, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&births_stopping, 0, __ATOMIC_RELEASE);
    cw_births_settle(current_gid);
    int rc = ts_spawn(&birther, birth_loop, NULL, TS_STACK_BYTES, 0);
    births_running = rc == 0;
    pthread_mutex_unlock(&births_lock);
    return rc;
}

void cw_births_stop(void) {
    pthread_mutex_lock(&births_lock);
    if (births_running) {
        __atomic_store_n(&births_stopping, 1, __ATOMIC_RELEASE);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += CW_BIRTHS_JOIN_SECONDS;
        if (pthread_timedjoin_np(birther, NULL, &deadline) != 0) pthread_detach(birther);
        births_running = 0;
    }
    pthread_mutex_unlock(&births_lock);
}

cw_births_tally cw_births_count(void) {
    return (cw_births_tally){
        .born = __atomic_load_n(&born, __ATOMIC_RELAXED),
        .checked = __atomic_load_n(&checked, __ATOMIC_RELAXED),
        .wrong = __atomic_load_n(&wrong, __ATOMIC_RELAXED),
    };
}
