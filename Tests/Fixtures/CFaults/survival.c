// What real processes do to a broadcast: a thread whose seccomp filter traps
// or kills it at a step, a caller killed inside its own broadcast, a step that blocks
// while other threads are interrupted inside malloc, and a fork child that reuses the
// engine's descriptor number for a file of its own.
#define _GNU_SOURCE
#include "CFaults.h"

#include <CBroadcast.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// ---- seccomp-filtered threads --------------------------------------------------------

#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8 * (i))

// Loads, on the calling thread only, a filter that answers `nr(a0, a1, x, ...)` with
// `action` unless x (the third argument) is CW_EMULATED_MARK; everything else is allowed.
static int load_filter(long nr, long a0, long a1, unsigned action) {
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 6),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(0)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)a0, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(1)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)a1, 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(2)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CW_EMULATED_MARK, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, action),
    };
    // A mismatch of nr, a0 or a1 jumps to ALLOW (index 8); so does the mark; anything
    // else reaches `action` (index 9).
    struct sock_fprog program = {.len = sizeof code / sizeof code[0], .filter = code};
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0 ? 0 : -errno;
}

struct filtered {
    _Atomic int tid;  // futex word: 0 until published, -errno on failure
    long nr, a0, a1;
    unsigned action;
    int broadcast;    // nonzero: broadcast nr(a0, a1) itself once the filter is loaded
    cb_options options;
};

static void publish(struct filtered *f, int value) {
    atomic_store(&f->tid, value);
    syscall(SYS_futex, &f->tid, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *filtered_main(void *arg) {
    struct filtered *f = arg;
    ts_set_name(f->broadcast ? "wl-doomed-call" : "wl-filtered");
    int r = load_filter(f->nr, f->a0, f->a1, f->action);
    publish(f, r < 0 ? r : ts_gettid());
    if (r < 0) return NULL;
    if (f->broadcast) {
        long args[6] = {f->a0, f->a1, 0, 0, 0, 0};
        cb_report report;
        cb_broadcast(f->nr, args, &f->options, &report);  // the filter kills this thread at its own step
        cb_report_free(&report);
        return NULL;
    }
    for (;;) pause();
}

static int start_filtered(struct filtered *f) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&thread, &attr, filtered_main, f);
    pthread_attr_destroy(&attr);
    if (rc != 0) return -rc;
    struct timespec ten = {10, 0};
    while (atomic_load(&f->tid) == 0)
        if (syscall(SYS_futex, &f->tid, FUTEX_WAIT_PRIVATE, 0, &ten, NULL, 0) != 0 && errno == ETIMEDOUT) return -ETIMEDOUT;
    return atomic_load(&f->tid);
}

int cw_start_filtered_thread(cw_filter_action action, long nr, long a0, long a1) {
    struct filtered *f = calloc(1, sizeof *f);  // lives as long as the thread
    if (!f) return -ENOMEM;
    f->nr = nr, f->a0 = a0, f->a1 = a1;
    f->action = action == CW_FILTER_TRAP ? SECCOMP_RET_TRAP : SECCOMP_RET_KILL_THREAD;
    return start_filtered(f);
}

int cw_start_doomed_caller(long slack, long long timeout_ns, int relaxed) {
    struct filtered *f = calloc(1, sizeof *f);  // never freed: the thread dies holding it
    if (!f) return -ENOMEM;
    f->nr = SYS_prctl, f->a0 = PR_SET_TIMERSLACK, f->a1 = slack;
    f->action = SECCOMP_RET_KILL_THREAD;
    f->broadcast = 1;
    f->options = (cb_options){.timeout_ns = timeout_ns, .signal = CB_DEFAULT_SIGNAL, .relaxed = relaxed};
    return start_filtered(f);
}

int cw_wait_thread_gone(int tid, int milliseconds) {
    for (int i = 0; i < milliseconds; i++) {
        if (syscall(SYS_tgkill, getpid(), tid, 0) != 0 && errno == ESRCH) return 0;
        usleep(1000);
    }
    return -ETIMEDOUT;
}

// ---- a SIGSYS handler that emulates the trapped call ----------------------------------

static _Atomic unsigned long emulated;

// Runs the trapped call again with the mark the filter lets through, and puts its
// result where the trapping thread expects the system call's return value.
static void emulate(int sig, siginfo_t *si, void *context) {
    (void)sig, (void)si;
    ucontext_t *uc = context;
#if defined(__x86_64__)
    greg_t *r = uc->uc_mcontext.gregs;
    long result = syscall(si->si_syscall, r[REG_RDI], r[REG_RSI], CW_EMULATED_MARK, r[REG_R10], r[REG_R8], r[REG_R9]);
    r[REG_RAX] = result == -1 ? -errno : result;
#else
    unsigned long long *x = uc->uc_mcontext.regs;
    long result = syscall(si->si_syscall, x[0], x[1], CW_EMULATED_MARK, x[3], x[4], x[5]);
    x[0] = result == -1 ? -errno : result;
#endif
    atomic_fetch_add(&emulated, 1);
}

int cw_install_sigsys_emulator(void) {
    struct sigaction sa = {.sa_sigaction = emulate, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGSYS, &sa, NULL) == 0 ? 0 : -errno;
}

unsigned long cw_emulated_calls(void) { return atomic_load(&emulated); }

// ---- a step that blocks while threads are inside malloc --------------------------------

static _Atomic int looping = 1;

static void *malloc_loop(void *arg) {
    (void)arg;
    ts_set_name("wl-malloc-loop");
    // Sizes above the per-thread cache's (1032 bytes), so every call takes the arena lock.
    while (atomic_load(&looping)) {
        void *p[8];
        for (int i = 0; i < 8; i++) p[i] = malloc(2048 + 4096 * i);
        for (int i = 0; i < 8; i++) free(p[i]);
    }
    return NULL;
}

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int cw_blocked_step_rounds(int loopers, int rounds, long long timeout_ns, int relaxed, cw_blocked_tally *out) {
    memset(out, 0, sizeof *out);
    // One arena for every thread (MALLOC_ARENA_MAX=1, common in containers): the caller
    // and the interrupted loopers share its lock.
    mallopt(M_ARENA_MAX, 1);
    for (int i = 0; i < loopers; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, malloc_loop, NULL) != 0) return -EAGAIN;
        pthread_detach(t);
    }
    static char sink[4096];
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
        if (write(fds[1], "*", 1) != 1) return -EIO;  // the caller's byte: every other thread blocks
        long args[6] = {fds[0], (long)sink, 1, 0, 0, 0};
        cb_options options = {.timeout_ns = timeout_ns, .signal = CB_DEFAULT_SIGNAL, .relaxed = relaxed};
        cb_report report;
        long long start = now_ns();
        cb_broadcast(SYS_read, args, &options, &report);
        long long elapsed = now_ns() - start;
        // Nothing here allocates until the blocked handlers are let go.
        uint32_t named = 0;
        for (uint32_t i = 0; i < report.problem_count; i++)
            if (report.problems[i].kind == CB_PROBLEM_NO_RESULT && report.problems[i].reason == CB_REASON_STILL_RUNNING) named++;
        static char bytes[4096];
        memset(bytes, '*', sizeof bytes);
        (void)!write(fds[1], bytes, sizeof bytes);
        cb_report_free(&report);
        if (elapsed > out->slowest_ns) out->slowest_ns = elapsed;
        if (report.status == CB_INCOMPLETE || report.status == CB_UNREACHABLE) out->deadline_passed++;
        if (named == 0) out->named_none++;
        out->named += named;
        out->rounds++;
        // Let the late handlers finish before the pipe goes.
        struct timespec t = {0, 50000000};
        nanosleep(&t, NULL);
        close(fds[0]);
        close(fds[1]);
    }
    atomic_store(&looping, 0);
    return 0;
}

// ---- a fork child that reuses the engine's descriptor number -----------------------------

static void *idle(void *arg) {
    (void)arg;
    for (;;) pause();
}

int cw_fork_child_reuses_engine_fd(int relaxed) {
    // The engine's descriptor: the one open on our own task directory.
    char want[64], link[64], path[64];
    snprintf(want, sizeof want, "/proc/%d/task", getpid());
    int engine_fd = -1;
    for (int fd = 0; fd < 1024 && engine_fd < 0; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0 && (link[n] = 0, strcmp(link, want) == 0)) engine_fd = fd;
    }
    if (engine_fd < 0) return -ENOENT;  // no broadcast has run yet
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        // The child closes what it inherited and opens a file of its own at that number.
        int own = memfd_create("child-own", MFD_CLOEXEC);
        if (own < 0 || dup2(own, engine_fd) != engine_fd) _exit(CW_CHILD_SETUP);
        close(own);
        struct stat before, after;
        if (fstat(engine_fd, &before) != 0) _exit(CW_CHILD_SETUP);
        pthread_t t;
        if (pthread_create(&t, NULL, idle, NULL) != 0) _exit(CW_CHILD_SETUP);
        long args[6] = {PR_SET_TIMERSLACK, 123458, 0, 0, 0, 0};
        cb_options options = {.timeout_ns = 3000000000LL, .signal = CB_DEFAULT_SIGNAL, .relaxed = relaxed};
        cb_report report;
        cb_broadcast(SYS_prctl, args, &options, &report);
        if (report.status != CB_OK) _exit(CW_CHILD_FAILED + report.status);
        if (fstat(engine_fd, &after) != 0) _exit(CW_CHILD_FD_CLOSED);
        if (after.st_ino != before.st_ino || after.st_dev != before.st_dev) _exit(CW_CHILD_FD_CLOSED);
        _exit(CW_CHILD_OK);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) return -errno;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// ---- a tid reused during one broadcast -------------------------------------------------

static _Atomic int exiter_tid, newborn_tid;

// Leaves as soon as its own timer slack is `slack`: right after its handler ran the call.
static void *exiter_main(void *arg) {
    long slack = (long)arg;
    ts_set_name("wl-exiter");
    atomic_store(&exiter_tid, ts_gettid());
    // Looks every 200 us (pause() could miss a handler that ran just before it).
    while (prctl(PR_GET_TIMERSLACK) != slack) usleep(200);
    return NULL;
}

static void *newborn_main(void *arg) {
    (void)arg;
    ts_set_name("wl-newborn");
    uint64_t none = 0;  // born with its creator's mask, which blocks our signal: reachable again
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
    int me = ts_gettid();
    atomic_store(&newborn_tid, me);
    if (me != atomic_load(&exiter_tid)) return NULL;  // missed the tid: the creator tries again
    for (;;) pause();
}

static bool signal_pending(int sig) {
    uint64_t set = 0;
    syscall(SYS_rt_sigpending, &set, 8);
    return set >> (sig - 1) & 1;
}

struct reuser {
    long slack;
    int ring;           // >= 0: the departing task is this ring's SQPOLL thread: release the ring
    _Atomic int state;  // 0 starting, 1 blocking, 2 done
    int reused;         // the newborn took the exiter's tid
};

// Blocks our signal (raw), and once it is pending (a broadcast has begun and waits for this
// thread), waits (at most 1 s) until the exiter is gone, points ns_last_pid below its tid and
// starts a thread, which takes that tid with this thread's old state; then unblocks.
static void *reuser_main(void *arg) {
    struct reuser *r = arg;
    ts_set_name("wl-reuser");
    uint64_t block = 1ull << (CB_DEFAULT_SIGNAL - 1), none = 0;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &block, NULL, 8);
    atomic_store(&r->state, 1);
    while (!signal_pending(CB_DEFAULT_SIGNAL)) usleep(100);
    int x = atomic_load(&exiter_tid);
    if (r->ring >= 0) cw_ring_release(r->ring);  // its SQPOLL thread (skipped, x) exits
    // At most 1 s (strict holds the exiter: it cannot leave before this thread answers).
    for (long long end = now_ns() + 1000000000LL; now_ns() < end && !(syscall(SYS_tgkill, getpid(), x, 0) != 0 && errno == ESRCH);) usleep(100);
    // The kernel frees the number a moment after tgkill stops finding the thread (on a loaded
    // machine 20 tries 1 ms apart were seen to miss it): a newborn that missed it leaves, and
    // the next try points ns_last_pid below it again (at most ~0.5 s in all).
    int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
    char text[16];
    int n = snprintf(text, sizeof text, "%d", x - 1);
    for (int attempt = 0; attempt < 500 && fd >= 0 && !r->reused; attempt++) {
        pthread_t t;
        atomic_store(&newborn_tid, 0);
        if (write(fd, text, n) != n || pthread_create(&t, NULL, newborn_main, NULL) != 0) break;
        pthread_detach(t);
        while (atomic_load(&newborn_tid) == 0) usleep(100);
        r->reused = atomic_load(&newborn_tid) == x;
        if (!r->reused) usleep(1000);
    }
    if (fd >= 0) close(fd);
    atomic_store(&r->state, 2);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
    for (;;) pause();
}

static int reuse_broadcast(long slack, int relaxed, int ring, int sqpoll_tid, cw_reuse_outcome *out);

int cw_tid_reuse_broadcast(long slack, int relaxed, cw_reuse_outcome *out) {
    return reuse_broadcast(slack, relaxed, -1, 0, out);
}

int cw_sqpoll_reuse_broadcast(long slack, int relaxed, int ring, int sqpoll_tid, cw_reuse_outcome *out) {
    return ring < 0 || sqpoll_tid <= 0 ? -EINVAL : reuse_broadcast(slack, relaxed, ring, sqpoll_tid, out);
}

// The departing task is a thread that leaves after the call (ring < 0), or the SQPOLL
// thread `sqpoll_tid` of `ring`, which exits when the reuser releases the ring.
static int reuse_broadcast(long slack, int relaxed, int ring, int sqpoll_tid, cw_reuse_outcome *out) {
    memset(out, 0, sizeof *out);
    atomic_store(&exiter_tid, 0);
    atomic_store(&newborn_tid, 0);
    static struct reuser r;
    r = (struct reuser){.slack = slack, .ring = ring};
    pthread_t t;
    if (ring >= 0) {
        atomic_store(&exiter_tid, sqpoll_tid);
    } else {
        if (pthread_create(&t, NULL, exiter_main, (void *)slack) != 0) return -EAGAIN;
        pthread_detach(t);
    }
    while (atomic_load(&exiter_tid) == 0) usleep(100);
    // Both must be known to the engine before the broadcast: a broadcast of another value.
    if (pthread_create(&t, NULL, reuser_main, &r) != 0) return -EAGAIN;
    pthread_detach(t);
    while (atomic_load(&r.state) == 0) usleep(100);
    long args[6] = {PR_SET_TIMERSLACK, slack, 0, 0, 0, 0};
    cb_options options = {.timeout_ns = 5000000000LL, .signal = CB_DEFAULT_SIGNAL, .relaxed = relaxed};
    cb_report report;
    cb_broadcast(SYS_prctl, args, &options, &report);
    out->status = report.status;
    if (report.problem_count) out->problem_tid = report.problems[0].tid, out->problem_reason = report.problems[0].reason;
    cb_report_free(&report);
    for (int i = 0; i < 20000 && atomic_load(&r.state) != 2; i++) usleep(100);
    out->exiter = atomic_load(&exiter_tid);
    out->newborn = atomic_load(&newborn_tid);
    out->reused = r.reused;
    return 0;
}
