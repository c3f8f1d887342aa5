// Faults and odd tasks for the torture suite: a thread in uninterruptible
// sleep, a thread stopped by a tracer, io_uring workers, tiny and alternate
// stacks, a foreign handler displacing ours, and processes made from threads.
#define _GNU_SOURCE
#include "CFaults.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

// ---- uninterruptible sleep ---------------------------------------------------

struct tid_box {
    _Atomic int tid;  // futex word: 0 until published
    int param;        // the thread's one parameter (milliseconds, bytes)
};

static void publish_tid(struct tid_box *box, int tid) {
    atomic_store(&box->tid, tid);
    ts_futex((int *)&box->tid, FUTEX_WAKE_PRIVATE, 1, NULL);
}

static int await_tid(struct tid_box *box) {
    struct timespec ten = {10, 0};
    while (atomic_load(&box->tid) == 0)
        if (ts_futex((int *)&box->tid, FUTEX_WAIT_PRIVATE, 0, &ten) != 0 && errno == ETIMEDOUT) return -ETIMEDOUT;
    return atomic_load(&box->tid);
}

static void *vfork_sleeper_main(void *arg) {
    struct tid_box *box = arg;
    int ms = box->param;
    ts_set_name("wl-vfork");
    publish_tid(box, ts_gettid());
    // The parent waits for the child in TASK_KILLABLE (state D): only a fatal
    // signal wakes it. The child touches nothing but raw system calls.
    pid_t child = vfork();
    if (child == 0) {
        struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
        syscall(SYS_nanosleep, &t, NULL);
        syscall(SYS_exit, 0);
    }
    if (child > 0) waitpid(child, NULL, 0);
    for (;;) pause();
    return NULL;
}

int cw_start_vfork_sleeper(int milliseconds) {
    static struct tid_box box;  // one sleeper per process is all the suite needs
    box = (struct tid_box){.param = milliseconds};
    pthread_t thread;
    int rc = ts_spawn(&thread, vfork_sleeper_main, &box, TS_STACK_BYTES, 1);
    return rc != 0 ? rc : await_tid(&box);
}

// ---- ptrace stop ------------------------------------------------------------------

int cw_ptrace_stop(int tid) {
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) return -errno;
    if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0) return -errno;
    int status;
    if (waitpid(tid, &status, __WALL) != tid) return -errno;
    return 0;
}

int cw_ptrace_detach(int tid) {
    return ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0 ? 0 : -errno;
}

// ---- io_uring ---------------------------------------------------------------------

int cw_start_io_uring_worker(void) {
    static int pipe_fds[2];
    static char buffer[16];
    if (pipe(pipe_fds) != 0) return -errno;
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    int ring = (int)syscall(SYS_io_uring_setup, 4, &params);
    if (ring < 0) return -errno;
    size_t sq_size = params.sq_off.array + params.sq_entries * sizeof(uint32_t);
    char *sq = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
    struct io_uring_sqe *sqes = mmap(NULL, params.sq_entries * sizeof *sqes, PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || sqes == MAP_FAILED) return -errno;
    // One read, forced to a worker thread (IOSQE_ASYNC), where it blocks on the empty pipe.
    memset(&sqes[0], 0, sizeof sqes[0]);
    sqes[0].opcode = IORING_OP_READ;
    sqes[0].flags = IOSQE_ASYNC;
    sqes[0].fd = pipe_fds[0];
    sqes[0].addr = (uint64_t)(uintptr_t)buffer;
    sqes[0].len = sizeof buffer;
    uint32_t *tail = (uint32_t *)(sq + params.sq_off.tail);
    uint32_t *mask = (uint32_t *)(sq + params.sq_off.ring_mask);
    uint32_t *array = (uint32_t *)(sq + params.sq_off.array);
    array[*tail & *mask] = 0;
    atomic_store_explicit((_Atomic uint32_t *)tail, *tail + 1, memory_order_release);
    if (syscall(SYS_io_uring_enter, ring, 1, 0, 0, NULL, 0) < 0) return -errno;
    return ring;
}

// ---- stacks -----------------------------------------------------------------------

static void *tiny_main(void *arg) {
    struct tid_box *box = arg;
    ts_set_name("wl-tinystack");
    publish_tid(box, ts_gettid());
    for (;;) pause();
    return NULL;
}

int cw_start_tiny_stack_thread(void) {
    struct tid_box *box = calloc(1, sizeof *box);  // lives as long as the thread
    if (!box) return -ENOMEM;
    pthread_t thread;
    int rc = ts_spawn(&thread, tiny_main, box, PTHREAD_STACK_MIN, 1);
    return rc != 0 ? rc : await_tid(box);
}

static void *altstack_main(void *arg) {
    struct tid_box *box = arg;
    ts_set_name("wl-altstack");
    size_t size = (size_t)sysconf(_SC_MINSIGSTKSZ) + (size_t)box->param;
    stack_t ss = {.ss_sp = malloc(size), .ss_size = size, .ss_flags = 0};
    int result = -ENOMEM;
    if (ss.ss_sp) result = sigaltstack(&ss, NULL) == 0 ? ts_gettid() : -errno;
    publish_tid(box, result);
    for (;;) pause();
    return NULL;
}

int cw_start_altstack_thread(int extra_bytes) {
    struct tid_box *box = calloc(1, sizeof *box);
    if (!box) return -ENOMEM;
    box->param = extra_bytes;
    pthread_t thread;
    int rc = ts_spawn(&thread, altstack_main, box, TS_STACK_BYTES, 1);
    return rc != 0 ? rc : await_tid(box);
}

// ---- the signal queue ------------------------------------------------------------

long cw_set_sigpending_limit(long limit) {
    struct rlimit old;
    if (getrlimit(RLIMIT_SIGPENDING, &old) != 0) return -errno;
    struct rlimit now = {.rlim_cur = (rlim_t)limit, .rlim_max = old.rlim_max};
    if (setrlimit(RLIMIT_SIGPENDING, &now) != 0) return -errno;
    return (long)old.rlim_cur;
}

// ---- a foreign handler --------------------------------------------------------------

int cw_ignore_signal_raw(int kernel_signal) {
    struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } act = {SIG_IGN, 0, NULL, 0};
    return syscall(SYS_rt_sigaction, kernel_signal, &act, NULL, 8) == 0 ? 0 : -errno;
}

// ---- processes made from threads ------------------------------------------------------

static _Atomic int makers_stop;
static _Atomic unsigned long children_made;
static pthread_t makers[64];
static int maker_count;

static void *forker_main(void *arg) {
    (void)arg;
    ts_set_name("wl-forker");
    while (!atomic_load(&makers_stop)) {
        pid_t child = fork();
        if (child == 0) _exit(0);
        if (child > 0 && waitpid(child, NULL, 0) == child) atomic_fetch_add(&children_made, 1);
    }
    return NULL;
}

static void *spawner_main(void *arg) {
    (void)arg;
    ts_set_name("wl-spawner");
    char *argv[] = {"true", NULL};
    while (!atomic_load(&makers_stop)) {
        pid_t child;
        if (posix_spawn(&child, "/bin/true", NULL, NULL, argv, environ) == 0 && waitpid(child, NULL, 0) == child)
            atomic_fetch_add(&children_made, 1);
    }
    return NULL;
}

int cw_start_process_makers(int forkers, int spawners) {
    if (forkers < 0 || spawners < 0 || forkers + spawners > 64 || maker_count) return -EINVAL;
    atomic_store(&makers_stop, 0);
    atomic_store(&children_made, 0);
    for (int i = 0; i < forkers + spawners; i++) {
        int rc = ts_spawn(&makers[maker_count], i < forkers ? forker_main : spawner_main, NULL, TS_STACK_BYTES, 0);
        if (rc != 0) return rc;
        maker_count++;
    }
    return 0;
}

unsigned long cw_stop_process_makers(void) {
    atomic_store(&makers_stop, 1);
    for (int i = 0; i < maker_count; i++) pthread_join(makers[i], NULL);
    maker_count = 0;
    return atomic_load(&children_made);
}
