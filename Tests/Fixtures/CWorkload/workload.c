// Long-lived threads: idle and busy loops, a signal blocker and a seccomp-filtered thread.
//
// Each thread is started detached. The creator waits (at most 10 s) for a
// handshake: the new thread prepares its state, then publishes gettid() or
// -errno in a futex word and wakes the creator. The handshake record is on the
// heap and reference counted, so a creator that gives up early leaves nothing
// dangling for the thread to write into.
#define _GNU_SOURCE
#include "CWorkload.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/// How long a creator waits for a new thread to report.
#define CW_HANDSHAKE_SECONDS 10

enum cw_role { CW_ROLE_IDLE, CW_ROLE_SIGNAL_BLOCKER, CW_ROLE_SECCOMP };

struct cw_handshake {
    int result;  // futex word: 0 while pending, then tid (> 0) or -errno
    int refs;    // creator + thread; the last one to let go frees the record
    enum cw_role role;
    cw_idle idle;
    int kernel_signal;
    long syscall_nr;
    int err;
};

int cw_gettid(void) {
    return (int)syscall(SYS_gettid);
}

long cw_futex(int *word, int op, int value, const struct timespec *timeout) {
    return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

int cw_deadline_after(struct timespec *deadline, long seconds) {
    if (clock_gettime(CLOCK_MONOTONIC, deadline) != 0) return -errno;
    deadline->tv_sec += seconds;
    return 0;
}

int cw_time_left(const struct timespec *deadline, struct timespec *left) {
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) return 0;
    long long ns = (long long)(deadline->tv_sec - now.tv_sec) * 1000000000LL
        + (deadline->tv_nsec - now.tv_nsec);
    if (ns <= 0) return 0;
    left->tv_sec = (time_t)(ns / 1000000000LL);
    left->tv_nsec = (long)(ns % 1000000000LL);
    return 1;
}

void cw_set_name(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

void cw_sleep_ns(long nanoseconds) {
    struct timespec t = { .tv_sec = nanoseconds / 1000000000L, .tv_nsec = nanoseconds % 1000000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

int cw_spawn(pthread_t *thread, void *(*body)(void *), void *arg, size_t stack_bytes, int detached) {
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0) return -rc;
    rc = pthread_attr_setstacksize(&attr, stack_bytes);
    if (rc == 0 && detached) rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (rc == 0) rc = pthread_create(thread, &attr, body, arg);
    pthread_attr_destroy(&attr);
    return -rc;
}

static void handshake_release(struct cw_handshake *h) {
    if (__atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0) free(h);
}

/// Called once by the new thread: publishes `result` and wakes the creator.
static void handshake_publish(struct cw_handshake *h, int result) {
    __atomic_store_n(&h->result, result, __ATOMIC_RELEASE);
    cw_futex(&h->result, FUTEX_WAKE_PRIVATE, 1, NULL);
    handshake_release(h);
}

/// Called by the creator: the thread's result, or -ETIMEDOUT.
static int handshake_wait(struct cw_handshake *h) {
    struct timespec deadline, left;
    int rc = cw_deadline_after(&deadline, CW_HANDSHAKE_SECONDS);
    int result = 0;
    if (rc != 0) {
        result = rc;
    } else {
        while ((result = __atomic_load_n(&h->result, __ATOMIC_ACQUIRE)) == 0) {
            if (!cw_time_left(&deadline, &left)) {
                result = -ETIMEDOUT;
                break;
            }
            cw_futex(&h->result, FUTEX_WAIT_PRIVATE, 0, &left);  // EINTR/EAGAIN/ETIMEDOUT: look again
        }
    }
    handshake_release(h);
    return result;
}

// ---- what the threads do forever -------------------------------------------

static void pause_forever(void) {
    for (;;) pause();
}

/// The pipe all CW_IDLE_READ threads read from; its write end stays open, unused.
static int idle_pipe[2] = { -1, -1 };
static int idle_pipe_error;
static pthread_once_t idle_pipe_once = PTHREAD_ONCE_INIT;

static void idle_pipe_open(void) {
    if (pipe2(idle_pipe, O_CLOEXEC) != 0) idle_pipe_error = errno;
}

static void read_forever(void) {
    char byte;
    for (;;) {
        ssize_t n = read(idle_pipe[0], &byte, 1);
        if (n < 0 && errno != EINTR) pause_forever();  // cannot happen; stay idle anyway
    }
}

/// The word CW_IDLE_FUTEX threads wait on; nobody ever changes it.
static int idle_futex_word;

static void futex_forever(void) {
    for (;;) cw_futex(&idle_futex_word, FUTEX_WAIT_PRIVATE, 0, NULL);
}

static void nanosleep_forever(void) {
    for (;;) {
        struct timespec t = { .tv_sec = 3600, .tv_nsec = 0 };
        while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
    }
}

static uint32_t xorshift32(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static void malloc_forever(void) {
    // A ring of live blocks, so the heap keeps a changing mix of sizes. The
    // slots are volatile so the compiler cannot drop the malloc/free pairs.
    void *volatile slots[16] = { 0 };
    uint32_t seed = (uint32_t)cw_gettid() * 2654435761u | 1u;
    for (unsigned i = 0;; i = (i + 1) % 16) {
        size_t size = 1 + xorshift32(&seed) % 4096;
        free(slots[i]);
        unsigned char *block = malloc(size);
        if (block != NULL) {
            block[0] = (unsigned char)i;
            block[size - 1] = (unsigned char)size;
        }
        slots[i] = block;
    }
}

static void stdio_forever(FILE *sink) {
    char line[256];
    uint32_t seed = (uint32_t)cw_gettid() | 1u;
    for (unsigned long i = 0;; i++) {
        uint32_t r = xorshift32(&seed);
        snprintf(line, sizeof line, "line %lu: %u %08x %.3f %s", i, r, r, (double)r / 7.0, "stdio");
        fprintf(sink, "%s\n", line);
        if (i % 64 == 0) fflush(sink);
    }
}

// ---- thread bodies --------------------------------------------------------

static void *idle_main(void *arg) {
    static const char *const names[] = {
        [CW_IDLE_PAUSE] = "wl-pause", [CW_IDLE_READ] = "wl-read", [CW_IDLE_FUTEX] = "wl-futex",
        [CW_IDLE_NANOSLEEP] = "wl-nanosleep", [CW_IDLE_MALLOC] = "wl-malloc", [CW_IDLE_STDIO] = "wl-stdio",
    };
    struct cw_handshake *h = arg;
    cw_idle kind = h->idle;
    cw_set_name(names[kind]);
    FILE *sink = NULL;
    int result = cw_gettid();
    if (kind == CW_IDLE_READ) {
        pthread_once(&idle_pipe_once, idle_pipe_open);
        if (idle_pipe_error != 0) result = -idle_pipe_error;
    } else if (kind == CW_IDLE_STDIO) {
        sink = fopen("/dev/null", "we");
        if (sink == NULL) result = -errno;
    }
    handshake_publish(h, result);
    if (result < 0) return NULL;
    switch (kind) {
    case CW_IDLE_PAUSE: pause_forever(); break;
    case CW_IDLE_READ: read_forever(); break;
    case CW_IDLE_FUTEX: futex_forever(); break;
    case CW_IDLE_NANOSLEEP: nanosleep_forever(); break;
    case CW_IDLE_MALLOC: malloc_forever(); break;
    case CW_IDLE_STDIO: stdio_forever(sink); break;
    }
    pause_forever();
    return NULL;
}

static _Atomic int blockers_released;

static void *signal_blocker_main(void *arg) {
    struct cw_handshake *h = arg;
    // The kernel's sigset_t: 64 bits, bit n-1 for signal n. glibc's
    // sigprocmask silently keeps 32 and 33 unblocked, so go to the kernel.
    uint64_t mask = UINT64_C(1) << (h->kernel_signal - 1);
    cw_set_name("wl-sigblock");
    int result = cw_gettid();
    if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, sizeof mask) != 0) result = -errno;
    handshake_publish(h, result);
    if (result <= 0) return NULL;
    // Blocked until cw_release_signal_blockers(); then unblocked for good.
    while (atomic_load(&blockers_released) == 0) cw_futex((int *)&blockers_released, FUTEX_WAIT_PRIVATE, 0, NULL);
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &mask, NULL, sizeof mask);
    pause_forever();
    return NULL;
}

void cw_release_signal_blockers(void) {
    atomic_store(&blockers_released, 1);
    cw_futex((int *)&blockers_released, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

/// Loads the filter on the calling thread only; 0 or -errno.
static int load_errno_filter(long syscall_nr, int err) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL) return -ENOMEM;
    // Report the kernel's own errno rather than libseccomp's catch-all ECANCELED.
    // Best effort: libseccomp before 2.5 lacks the attribute.
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 0);
    if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint32_t)err), (int)syscall_nr, 0);
    if (rc == 0) rc = seccomp_load(ctx);
    if (rc == -EACCES || rc == -ECANCELED) {
        // Without CAP_SYS_ADMIN (e.g. after a drop to uid 65534) the kernel
        // wants no_new_privs. It is a per-thread flag: setting it here
        // affects this thread only, which is the only one filtered anyway.
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) rc = -errno;
        else rc = seccomp_load(ctx);
    }
    seccomp_release(ctx);
    return rc < 0 ? rc : 0;
}

static void *seccomp_main(void *arg) {
    struct cw_handshake *h = arg;
    cw_set_name("wl-seccomp");
    int rc = load_errno_filter(h->syscall_nr, h->err);
    int result = rc < 0 ? rc : cw_gettid();
    handshake_publish(h, result);
    if (result > 0) pause_forever();
    return NULL;
}

// ---- starting ---------------------------------------------------------------

static int start_with_handshake(struct cw_handshake *h) {
    void *(*body)(void *) = idle_main;
    if (h->role == CW_ROLE_SIGNAL_BLOCKER) body = signal_blocker_main;
    if (h->role == CW_ROLE_SECCOMP) body = seccomp_main;
    h->result = 0;
    h->refs = 2;
    pthread_t thread;
    int rc = cw_spawn(&thread, body, h, CW_STACK_BYTES, 1);
    if (rc != 0) {
        free(h);
        return rc;
    }
    return handshake_wait(h);
}

static struct cw_handshake *handshake_new(enum cw_role role) {
    struct cw_handshake *h = calloc(1, sizeof *h);
    if (h != NULL) h->role = role;
    return h;
}

int cw_start_idle_thread(cw_idle kind) {
    if ((int)kind < CW_IDLE_PAUSE || (int)kind > CW_IDLE_STDIO) return -EINVAL;
    struct cw_handshake *h = handshake_new(CW_ROLE_IDLE);
    if (h == NULL) return -ENOMEM;
    h->idle = kind;
    return start_with_handshake(h);
}

int cw_start_signal_blocker(int kernel_signal) {
    if (kernel_signal < 1 || kernel_signal > 64) return -EINVAL;
    struct cw_handshake *h = handshake_new(CW_ROLE_SIGNAL_BLOCKER);
    if (h == NULL) return -ENOMEM;
    h->kernel_signal = kernel_signal;
    return start_with_handshake(h);
}

int cw_start_seccomp_errno_thread(long syscall_nr, int err) {
    if (syscall_nr < 0 || syscall_nr > INT32_MAX || err < 0 || err > 4095) return -EINVAL;
    struct cw_handshake *h = handshake_new(CW_ROLE_SECCOMP);
    if (h == NULL) return -ENOMEM;
    h->syscall_nr = syscall_nr;
    h->err = err;
    return start_with_handshake(h);
}
