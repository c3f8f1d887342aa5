// Detached threads started with a handshake, and the idle states they stay in.
//
// The creator waits (at most 10 s) for the new thread: it prepares its state,
// then publishes gettid() or -errno in a futex word and wakes the creator. The
// handshake record is on the heap and reference counted, so a creator that
// gives up early leaves nothing dangling for the thread to write into; the
// thread copies what it needs onto its own stack before it publishes.
#define _GNU_SOURCE
#include "CThreadStarter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/// How long a creator waits for a new thread to report.
#define TS_HANDSHAKE_SECONDS 10
/// A thread name (comm) and its terminating zero.
#define TS_NAME_BYTES 16

struct ts_handshake {
    int result;  // futex word: 0 while pending, then tid (> 0) or -errno
    int refs;    // creator + thread; the last one to let go frees the record
    char name[TS_NAME_BYTES];
    int (*prepare)(void *state);
    void (*run)(void *state);
    size_t size;
    unsigned char state[TS_STATE_BYTES];
};

int ts_gettid(void) {
    return (int)syscall(SYS_gettid);
}

long ts_futex(int *word, int op, int value, const struct timespec *timeout) {
    return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

int ts_deadline_after(struct timespec *deadline, long seconds) {
    if (clock_gettime(CLOCK_MONOTONIC, deadline) != 0) return -errno;
    deadline->tv_sec += seconds;
    return 0;
}

int ts_time_left(const struct timespec *deadline, struct timespec *left) {
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) return 0;
    long long ns = (long long)(deadline->tv_sec - now.tv_sec) * 1000000000LL
        + (deadline->tv_nsec - now.tv_nsec);
    if (ns <= 0) return 0;
    left->tv_sec = (time_t)(ns / 1000000000LL);
    left->tv_nsec = (long)(ns % 1000000000LL);
    return 1;
}

void ts_set_name(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

int ts_spawn(pthread_t *thread, void *(*body)(void *), void *arg, size_t stack_bytes, int detached) {
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0) return -rc;
    rc = pthread_attr_setstacksize(&attr, stack_bytes);
    if (rc == 0 && detached) rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (rc == 0) rc = pthread_create(thread, &attr, body, arg);
    pthread_attr_destroy(&attr);
    return -rc;
}

static void handshake_release(struct ts_handshake *h) {
    if (__atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0) free(h);
}

/// Called once by the new thread: publishes `result` and wakes the creator.
static void handshake_publish(struct ts_handshake *h, int result) {
    __atomic_store_n(&h->result, result, __ATOMIC_RELEASE);
    ts_futex(&h->result, FUTEX_WAKE_PRIVATE, 1, NULL);
    handshake_release(h);
}

/// Called by the creator: the thread's result, or -ETIMEDOUT.
static int handshake_wait(struct ts_handshake *h) {
    struct timespec deadline, left;
    int rc = ts_deadline_after(&deadline, TS_HANDSHAKE_SECONDS);
    int result = 0;
    if (rc != 0) {
        result = rc;
    } else {
        while ((result = __atomic_load_n(&h->result, __ATOMIC_ACQUIRE)) == 0) {
            if (!ts_time_left(&deadline, &left)) {
                result = -ETIMEDOUT;
                break;
            }
            ts_futex(&h->result, FUTEX_WAIT_PRIVATE, 0, &left);  // EINTR/EAGAIN/ETIMEDOUT: look again
        }
    }
    handshake_release(h);
    return result;
}

static void pause_forever(void) {
    for (;;) pause();
}

static void *thread_main(void *arg) {
    struct ts_handshake *h = arg;
    // The record may be freed once published: keep what the thread needs on its own stack.
    unsigned char state[TS_STATE_BYTES];
    memcpy(state, h->state, h->size);
    void (*run)(void *) = h->run;
    ts_set_name(h->name);
    int rc = h->prepare != NULL ? h->prepare(state) : 0;
    int result = rc < 0 ? rc : ts_gettid();
    handshake_publish(h, result);
    if (result <= 0) return NULL;
    if (run != NULL) run(state);
    pause_forever();
    return NULL;
}

int ts_start_thread(const char *name, int (*prepare)(void *state), void (*run)(void *state),
                    const void *state, size_t size) {
    if (size > TS_STATE_BYTES) return -EINVAL;
    struct ts_handshake *h = calloc(1, sizeof *h);
    if (h == NULL) return -ENOMEM;
    strncpy(h->name, name, TS_NAME_BYTES - 1);
    h->prepare = prepare;
    h->run = run;
    h->size = size;
    if (size > 0) memcpy(h->state, state, size);
    h->refs = 2;
    pthread_t thread;
    int rc = ts_spawn(&thread, thread_main, h, TS_STACK_BYTES, 1);
    if (rc != 0) {
        free(h);
        return rc;
    }
    return handshake_wait(h);
}

// ---- the idle states ----------------------------------------------------------

/// The pipe all TS_IDLE_READ threads read from; its write end stays open, unused.
static int idle_pipe[2] = { -1, -1 };
static int idle_pipe_error;
static pthread_once_t idle_pipe_once = PTHREAD_ONCE_INIT;

static void idle_pipe_open(void) {
    if (pipe2(idle_pipe, O_CLOEXEC) != 0) idle_pipe_error = errno;
}

static int prepare_read(void *state) {
    (void)state;
    pthread_once(&idle_pipe_once, idle_pipe_open);
    return -idle_pipe_error;
}

static void read_loop(void *state) {
    (void)state;
    char byte;
    for (;;) {
        ssize_t n = read(idle_pipe[0], &byte, 1);
        if (n < 0 && errno != EINTR) pause_forever();  // cannot happen; stay idle anyway
    }
}

/// The word TS_IDLE_FUTEX threads wait on; nobody ever changes it.
static int idle_futex_word;

static void futex_loop(void *state) {
    (void)state;
    for (;;) ts_futex(&idle_futex_word, FUTEX_WAIT_PRIVATE, 0, NULL);
}

static void nanosleep_loop(void *state) {
    (void)state;
    for (;;) {
        struct timespec t = { .tv_sec = 3600, .tv_nsec = 0 };
        while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
    }
}

int ts_start_idle_thread(ts_idle kind) {
    switch (kind) {
    case TS_IDLE_PAUSE: return ts_start_thread("wl-pause", NULL, NULL, NULL, 0);
    case TS_IDLE_READ: return ts_start_thread("wl-read", prepare_read, read_loop, NULL, 0);
    case TS_IDLE_FUTEX: return ts_start_thread("wl-futex", NULL, futex_loop, NULL, 0);
    case TS_IDLE_NANOSLEEP: return ts_start_thread("wl-nanosleep", NULL, nanosleep_loop, NULL, 0);
    }
    return -EINVAL;
}
