// Thread churn: creator threads that create and join short-lived children
// until told to stop, so threads appear and vanish during a broadcast.
#define _GNU_SOURCE
#include "CFaults.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/// Every this many rounds a creator starts a small batch of children that linger briefly.
#define CW_CHURN_BATCH_EVERY 32
/// Children in such a batch, alive at the same time.
#define CW_CHURN_BATCH 4
/// How long batch children linger.
#define CW_CHURN_LINGER_NS 1000000L
/// Upper bound on waiting for one thread to be joined.
#define CW_CHURN_JOIN_SECONDS 5

static pthread_mutex_t churn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t *churn_creators;  // guarded by churn_lock; NULL when churn is off
static int churn_creator_count;    // guarded by churn_lock
static int churn_stopping;         // atomic
static unsigned long churn_count;  // atomic

static void *churn_child(void *arg) {
    long linger_ns = (long)(intptr_t)arg;
    ts_set_name("wl-churn-child");
    volatile int tid = ts_gettid();
    (void)tid;
    if (linger_ns > 0) cw_sleep_ns(linger_ns);
    return NULL;
}

/// Joins `thread`, waiting until the CLOCK_REALTIME `deadline`; detaches it if it is still running then.
static void join_until(pthread_t thread, const struct timespec *deadline) {
    if (pthread_timedjoin_np(thread, NULL, deadline) != 0) pthread_detach(thread);
}

static void realtime_deadline(struct timespec *deadline, long seconds) {
    clock_gettime(CLOCK_REALTIME, deadline);
    deadline->tv_sec += seconds;
}

static void *churn_creator(void *arg) {
    (void)arg;
    ts_set_name("wl-churn");
    for (unsigned long round = 1; !__atomic_load_n(&churn_stopping, __ATOMIC_ACQUIRE); round++) {
        int batch = round % CW_CHURN_BATCH_EVERY == 0 ? CW_CHURN_BATCH : 1;
        long linger = batch > 1 ? CW_CHURN_LINGER_NS : 0;
        pthread_t children[CW_CHURN_BATCH];
        int made = 0;
        while (made < batch
               && ts_spawn(&children[made], churn_child, (void *)(intptr_t)linger, TS_STACK_BYTES, 0) == 0) {
            __atomic_add_fetch(&churn_count, 1, __ATOMIC_RELAXED);
            made++;
        }
        struct timespec deadline;
        realtime_deadline(&deadline, CW_CHURN_JOIN_SECONDS);
        for (int i = 0; i < made; i++) join_until(children[i], &deadline);
        if (made < batch) cw_sleep_ns(1000000L);  // out of threads for now (EAGAIN): back off
    }
    return NULL;
}

/// Stops and joins `count` creators; called with churn_lock held.
static void stop_creators(pthread_t *creators, int count) {
    __atomic_store_n(&churn_stopping, 1, __ATOMIC_RELEASE);
    struct timespec deadline;
    realtime_deadline(&deadline, CW_CHURN_JOIN_SECONDS);
    for (int i = 0; i < count; i++) join_until(creators[i], &deadline);
}

int cw_churn_start(int creators) {
    if (creators < 1 || creators > 4096) return -EINVAL;
    pthread_mutex_lock(&churn_lock);
    if (churn_creators != NULL) {
        pthread_mutex_unlock(&churn_lock);
        return -EBUSY;
    }
    pthread_t *threads = calloc((size_t)creators, sizeof *threads);
    if (threads == NULL) {
        pthread_mutex_unlock(&churn_lock);
        return -ENOMEM;
    }
    __atomic_store_n(&churn_stopping, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&churn_count, 0, __ATOMIC_RELAXED);
    for (int i = 0; i < creators; i++) {
        int rc = ts_spawn(&threads[i], churn_creator, NULL, TS_STACK_BYTES, 0);
        if (rc != 0) {
            stop_creators(threads, i);
            free(threads);
            pthread_mutex_unlock(&churn_lock);
            return rc;
        }
    }
    churn_creators = threads;
    churn_creator_count = creators;
    pthread_mutex_unlock(&churn_lock);
    return 0;
}

void cw_churn_stop(void) {
    pthread_mutex_lock(&churn_lock);
    if (churn_creators != NULL) {
        stop_creators(churn_creators, churn_creator_count);
        free(churn_creators);
        churn_creators = NULL;
        churn_creator_count = 0;
    }
    pthread_mutex_unlock(&churn_lock);
}

unsigned long cw_churn_created(void) {
    return __atomic_load_n(&churn_count, __ATOMIC_RELAXED);
}
