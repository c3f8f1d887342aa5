// Long-lived odd threads: busy loops, a signal blocker and a seccomp-filtered thread.
//
// Each starts through ts_start_thread: the thread prepares its state (a mask, a
// filter, an open stream) before the creator gets its tid, so a caller that goes
// on to broadcast finds the thread already in that state.
#define _GNU_SOURCE
#include "CWorkload.h"

#include <errno.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

void cw_sleep_ns(long nanoseconds) {
    struct timespec t = { .tv_sec = nanoseconds / 1000000000L, .tv_nsec = nanoseconds % 1000000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {}
}

// ---- busy loops -------------------------------------------------------------

static uint32_t xorshift32(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

static void malloc_loop(void *state) {
    (void)state;
    // A ring of live blocks, so the heap keeps a changing mix of sizes. The
    // slots are volatile so the compiler cannot drop the malloc/free pairs.
    void *volatile slots[16] = { 0 };
    uint32_t seed = (uint32_t)ts_gettid() * 2654435761u | 1u;
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

/// Opens the stream a stdio loop writes to; the thread's state holds it.
static int prepare_stdio(void *state) {
    FILE *sink = fopen("/dev/null", "we");
    if (sink == NULL) return -errno;
    *(FILE **)state = sink;
    return 0;
}

static void stdio_loop(void *state) {
    FILE *sink = *(FILE **)state;
    char line[256];
    uint32_t seed = (uint32_t)ts_gettid() | 1u;
    for (unsigned long i = 0;; i++) {
        uint32_t r = xorshift32(&seed);
        snprintf(line, sizeof line, "line %lu: %u %08x %.3f %s", i, r, r, (double)r / 7.0, "stdio");
        fprintf(sink, "%s\n", line);
        if (i % 64 == 0) fflush(sink);
    }
}

int cw_start_busy_thread(cw_busy kind) {
    FILE *no_sink = NULL;
    switch (kind) {
    case CW_BUSY_MALLOC: return ts_start_thread("wl-malloc", NULL, malloc_loop, NULL, 0);
    case CW_BUSY_STDIO: return ts_start_thread("wl-stdio", prepare_stdio, stdio_loop, &no_sink, sizeof no_sink);
    }
    return -EINVAL;
}

// ---- the signal blocker -------------------------------------------------------

static _Atomic int blockers_released;

/// The kernel's sigset_t: 64 bits, bit n-1 for signal n. glibc's sigprocmask
/// silently keeps 32 and 33 unblocked, so these go to the kernel.
static int block_signal(void *state) {
    if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, (uint64_t *)state, NULL, sizeof(uint64_t)) != 0) return -errno;
    return 0;
}

/// Blocked until cw_release_signal_blockers(); then unblocked for good.
static void hold_signal_blocked(void *state) {
    while (atomic_load(&blockers_released) == 0) ts_futex((int *)&blockers_released, FUTEX_WAIT_PRIVATE, 0, NULL);
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, (uint64_t *)state, NULL, sizeof(uint64_t));
}

int cw_start_signal_blocker(int kernel_signal) {
    if (kernel_signal < 1 || kernel_signal > 64) return -EINVAL;
    uint64_t mask = UINT64_C(1) << (kernel_signal - 1);
    return ts_start_thread("wl-sigblock", block_signal, hold_signal_blocked, &mask, sizeof mask);
}

void cw_release_signal_blockers(void) {
    atomic_store(&blockers_released, 1);
    ts_futex((int *)&blockers_released, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

// ---- the seccomp-filtered thread ------------------------------------------------

/// What the filter of a seccomp thread refuses, and how.
struct errno_rule {
    long syscall_nr;
    int err;
};

/// Loads the filter on the calling thread only; 0 or -errno.
static int load_errno_filter(void *state) {
    const struct errno_rule *rule = state;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (ctx == NULL) return -ENOMEM;
    // Report the kernel's own errno rather than libseccomp's catch-all ECANCELED.
    // Best effort: libseccomp before 2.5 lacks the attribute.
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 0);
    if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint32_t)rule->err), (int)rule->syscall_nr, 0);
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

int cw_start_seccomp_errno_thread(long syscall_nr, int err) {
    if (syscall_nr < 0 || syscall_nr > INT32_MAX || err < 0 || err > 4095) return -EINVAL;
    struct errno_rule rule = { .syscall_nr = syscall_nr, .err = err };
    return ts_start_thread("wl-seccomp", load_errno_filter, NULL, &rule, sizeof rule);
}
