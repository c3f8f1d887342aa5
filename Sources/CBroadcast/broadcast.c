// The all-threads broadcast: run one system call on every thread of the process.
//
// PROTOCOL (one broadcast, generation G, under the process-wide broadcast lock)
//
//  1. Stop. Every known thread except the caller is sent our signal with
//     rt_tgsigqueueinfo (si_code SI_QUEUE, si_value = token(G) | slot index).
//     Its handler moves its slot SIGNALLED -> ARRIVED (CAS), counts itself in
//     `arrived` and sleeps on `cmd` until the caller decides.
//  2. Prove nobody is missing. When every signalled thread has arrived (or
//     /proc shows it gone, exiting, the zombie main thread or an io_uring
//     worker), the caller reads the thread count (the link count of
//     /proc/self/task: 2 + the counter `Threads:` shows). Equal to
//     1 + arrived + skipped-present: no unseen thread exists. Otherwise the
//     caller rescans /proc/self/task, signals the new tids, and repeats.
//  3. Decide. The caller runs the call itself. On failure it publishes ABORT:
//     the held threads leave without running anything (unless the broadcast
//     is a probe, which runs everywhere whatever the caller got). On success it
//     publishes RUN with one futex wake: each held thread runs the call,
//     records its result and returns to what it was doing.
//  4. Compare. The caller waits until every held thread has finished, then
//     compares each result with its own.
//  If the deadline passes in step 1 or 2, the still-SIGNALLED slots are CASed
//  to ABANDONED, ABORT is published, and the unreachable threads are named.
//
// RELAXED MODE (an option; glibc's semantics): the caller runs the call first
// and publishes RUN before signalling, so each thread runs the call as soon as
// its handler runs and goes on at once: one wake-up per thread instead of two.
// I2 and I3 do not hold: an unreachable thread is reported after the others
// changed, and a thread created during the broadcast may run an idempotent
// call twice. Meant for calls like glibc's setxid family.
//
// INVARIANTS, and why they hold
//  I1 Never hang. The caller's every wait is a futex wait with the absolute
//     deadline. A handler waits only for `cmd`, which the caller publishes by
//     its deadline; should the caller be frozen past it (a tracer, a call that
//     blocks on the caller), the handler gives up 2 s later without running
//     the call, and the caller reports it as having no result.
//  I2 No thread changes unless all can. Nobody runs the call before step 3,
//     and step 3 starts only once every thread is held (step 2).
//  I3 Atomic for application code. After step 2 no thread runs application
//     code: each is held in the handler, or skipped (runs none). A held
//     thread runs the call before it returns to application code, so once any
//     thread runs application code with the new state, none runs with the old.
//  I4 No unseen thread, no double run. A held thread cannot clone. A thread
//     signalled inside clone() finishes it before it handles the signal, so
//     its child exists (and is counted in the thread count) before the parent
//     arrives; step 2 finds it. Threads created after RUN were cloned by a
//     thread that already ran the call: they inherit the new state and are
//     never signalled in this generation.
//  I5 Only our broadcast runs the call. The handler acts only on SI_QUEUE
//     from our own pid carrying token(G) of the live generation: the token
//     mixes a getrandom() secret, so other processes (which may forge si_pid
//     and si_code SI_QUEUE) cannot produce it, and a stale delivery carries
//     an old generation. Anything else goes to the handler we replaced
//     (glibc's SIGSETXID handler for 33), so glibc's setuid keeps working.
//     The slot CAS (SIGNALLED,G) -> (ARRIVED,G) lets exactly one of the
//     handler and the abandoning caller win.
//  I6 Async-signal safety. While threads are held, the caller makes only raw
//     system calls on memory reserved beforehand (mmap'd registry, static
//     buffers): no malloc, stdio, opendir or lock another thread can hold.
//     The handler uses raw system calls, atomics and futexes only, never
//     errno. The report is allocated after every thread is released.
//  I7 Fork. A pthread_atfork child handler resets the lock and the registry;
//     /proc fds are reopened whenever getpid() changed.
//
// Cost: one signal and one futex wake per thread (two wake-ups), a few
// syscalls for the caller; /proc costs one fstat unless threads appeared or
// vanished since the previous broadcast.
#define _GNU_SOURCE
#include "CBroadcast.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// ---- slots ------------------------------------------------------------------

enum phase {
    P_NONE,       // not yet signalled in this generation
    P_UNSENT,     // the send failed with EAGAIN: try again
    P_SIGNALLED,  // sent, not yet arrived
    P_ARRIVED,    // held in the handler
    P_DONE,       // ran the call; `ret` is valid
    P_LEFT,       // released by ABORT without running the call
    P_GAVE_UP,    // waited past the hold deadline for a decision and left without running the call
    P_ABANDONED,  // unreachable: the caller gave up on it
    P_GONE,       // no longer exists
    P_SKIPPED,    // runs no application code (`reason`)
    P_SELF,       // the caller
};

enum kind { K_THREAD, K_ZOMBIE_MAIN, K_IO_WORKER };

struct slot {
    _Atomic uint64_t state;  // generation << 8 | phase
    int32_t tid;
    int32_t kind;            // enum kind, remembered between broadcasts
    int32_t reason;          // cb_reason for UNSENT, SKIPPED, ABANDONED
    uint32_t seen;           // number of the last scan that listed the tid
    long ret;                // result of the call (raw, -errno)
};

static inline uint64_t mkstate(uint64_t gen, enum phase p) { return gen << 8 | p; }
static inline enum phase phase_of(uint64_t st, uint64_t gen) { return (st >> 8) == gen ? (enum phase)(st & 0xff) : P_NONE; }

// si_value carries the slot index in its low bits and the generation's token above.
#define IDX_BITS 22
#define MAX_SLOTS (1u << IDX_BITS)
#define HASH_MAX (MAX_SLOTS * 2)

// `cmd` values: generation (low 30 bits) << 2 | op.
enum { CMD_WAIT = 0, CMD_RUN = 1, CMD_ABORT = 2 };
static inline uint32_t mkcmd(uint64_t gen, uint32_t op) { return (uint32_t)(gen << 2) | op; }

#define PF_EXITING 0x00000004u
#define PF_IO_WORKER 0x00000010u

// ---- process state ----------------------------------------------------------

static struct {
    _Atomic uint32_t lock;       // 0 free, 1 held, 2 held with waiters
    pid_t pid;                   // the process the fds and registry belong to
    int task_fd;                 // /proc/self/task
    uint64_t secret;
    uint64_t gen;                // last generation used
    _Atomic uint64_t live_gen;   // generation in flight, 0 between broadcasts

    long nr, args[6];            // the call of the live generation
    _Atomic uint32_t cmd;
    _Atomic uint32_t arrived, arrive_target;
    _Atomic uint32_t finished, finish_target;
    _Atomic int64_t hold_until;  // a held thread waits for the decision until then (monotonic ns)

    struct slot *slots;          // reserved MAX_SLOTS, committed `capacity`
    _Atomic uint32_t count;
    uint32_t capacity;
    uint32_t *hash;              // tid -> index + 1, open addressing
    uint32_t hash_size, hash_committed;
    uint32_t scan_no;

    char dents[32768];           // getdents64 buffer
} g = {.task_fd = -1};

// The handlers we replaced, per signal, so that foreign deliveries reach them.
static _Atomic(void *) chained_handler[65];
static _Atomic unsigned long chained_flags[65];

static _Atomic uint64_t stat_broadcasts, stat_handler_runs, stat_not_ours;

// ---- signal plumbing ----------------------------------------------------------

// The kernel's struct sigaction (x86_64 and aarch64 share this layout).
struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};
#define KSA_RESTORER 0x04000000UL

#if defined(__x86_64__)
// x86_64 needs a user-space return trampoline for a raw rt_sigaction; glibc's
// is private, so we carry our own two instructions.
__attribute__((visibility("hidden"))) void cb_restore_rt(void);
__asm__(".text\n"
        ".align 16\n"
        ".type cb_restore_rt,@function\n"
        "cb_restore_rt:\n"
        "  movq $15, %rax\n"  // __NR_rt_sigreturn
        "  syscall\n"
        ".size cb_restore_rt,.-cb_restore_rt\n");
#define RESTORER ((void *)cb_restore_rt)
#define RESTORER_FLAG KSA_RESTORER
#else
#define RESTORER NULL  // aarch64: the kernel returns through the vDSO
#define RESTORER_FLAG 0UL
#endif

HANDLER_CODE static inline uint64_t token_of(uint64_t gen) {
    uint64_t t = (g.secret ^ (gen * 0x9E3779B97F4A7C15ull)) >> IDX_BITS;
    return t ? t : 1;
}

// Hands a delivery that is not ours to the handler we displaced. SIG_DFL is
// dropped rather than run: its default action for a real-time signal would kill
// the process, and nobody asked for that when they installed nothing.
//
// A handler that displaced ours and chains back to it would bounce a foreign
// delivery between the two forever; `passing` (initial-exec TLS: no allocation,
// safe in a handler) stops the second pass. Our handler blocks every signal
// while it runs, so a nested pass can only be such a loop.
static __thread __attribute__((tls_model("initial-exec"))) int passing;

HANDLER_CODE static void pass_on(int sig, siginfo_t *si, void *uc) {
    atomic_fetch_add_explicit(&stat_not_ours, 1, memory_order_relaxed);
    void *h = atomic_load_explicit(&chained_handler[sig], memory_order_acquire);
    unsigned long flags = atomic_load_explicit(&chained_flags[sig], memory_order_relaxed);
    if (h == (void *)SIG_DFL || h == (void *)SIG_IGN || passing) return;
    passing = 1;
    if (flags & SA_SIGINFO) ((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
    else ((void (*)(int))h)(sig);
    passing = 0;
}

// Counts this thread into `counter`, waking the caller when it is the last.
HANDLER_CODE static void count_in(_Atomic uint32_t *counter, _Atomic uint32_t *target) {
    uint32_t n = atomic_fetch_add(counter, 1) + 1;
    if (n == atomic_load(target)) cb_futex_wake(counter, 1);
}

HANDLER_CODE static void run_call(struct slot *s, uint64_t gen) {
    s->ret = cb_sys6(g.nr, g.args[0], g.args[1], g.args[2], g.args[3], g.args[4], g.args[5]);
    atomic_store(&s->state, mkstate(gen, P_DONE));
    atomic_fetch_add_explicit(&stat_handler_runs, 1, memory_order_relaxed);
}

// Strict: held until the caller decides, then runs the call (RUN) or leaves
// (ABORT). Relaxed: RUN was published before the signal, so it runs at once.
// The count the caller waits for is each path's last touch of shared state;
// a wake that lands after the caller moved on is harmless, as every futex
// waiter re-checks its condition.
HANDLER_CODE static void participate(struct slot *s, uint64_t gen) {
    uint64_t expected = mkstate(gen, P_SIGNALLED);
    if (!atomic_compare_exchange_strong(&s->state, &expected, mkstate(gen, P_ARRIVED))) return;

    uint32_t run = mkcmd(gen, CMD_RUN), wait = mkcmd(gen, CMD_WAIT), c;
    if (atomic_load(&g.cmd) == run) {
        run_call(s, gen);
        count_in(&g.arrived, &g.arrive_target);
        return;
    }
    count_in(&g.arrived, &g.arrive_target);
    // The caller decides before its deadline; a caller frozen past it (stopped by a
    // tracer, stuck in its own call) must not hold this thread forever.
    int64_t limit = atomic_load(&g.hold_until);
    while ((c = atomic_load(&g.cmd)) == wait) {
        if (cb_futex_wait(&g.cmd, wait, limit) == -ETIMEDOUT && atomic_load(&g.cmd) == wait) break;
    }
    if (c == run) run_call(s, gen);
    else atomic_store(&s->state, mkstate(gen, c == wait ? P_GAVE_UP : P_LEFT));
    count_in(&g.finished, &g.finish_target);
}

HANDLER_CODE static void on_signal(int sig, siginfo_t *si, void *uc) {
    uint64_t gen = atomic_load(&g.live_gen);
    if (gen && si->si_code == SI_QUEUE && si->si_pid == g.pid) {
        uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
        uint32_t idx = (uint32_t)(v & (MAX_SLOTS - 1));
        if ((v >> IDX_BITS) == token_of(gen) && idx < atomic_load(&g.count)) {
            participate(&g.slots[idx], gen);
            return;
        }
    }
    pass_on(sig, si, uc);
}

static void chain_to(int sig, const struct ksigaction *previous) {
    bool real = previous->handler != (void *)SIG_DFL && previous->handler != (void *)SIG_IGN;
    void *known = atomic_load(&chained_handler[sig]);
    bool have_real = known != NULL && known != (void *)SIG_IGN;  // SIG_DFL is NULL
    if (!real && have_real) return;
    atomic_store(&chained_flags[sig], previous->flags);
    atomic_store(&chained_handler[sig], previous->handler);
}

// Installs on_signal on `sig` unless it is there already; one syscall when it is.
// glibc installs its SIGSETXID handler at the first pthread_create, displacing
// ours, so this runs at every broadcast, and again whenever arrivals stall.
// Returns 0 when ours was in place, 1 when it had to be installed, or -errno.
static long ensure_handler(int sig) {
    struct ksigaction cur, ours = {
        .handler = (void *)on_signal,
        .flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK | RESTORER_FLAG,
        .restorer = RESTORER,
        .mask = ~0ull,  // nothing interrupts a held thread; SIGKILL/SIGSTOP cannot be blocked anyway
    };
    long r = cb_sys4(SYS_rt_sigaction, sig, NULL, &cur, 8);
    if (r < 0) return r;
    if (cur.handler == ours.handler) return 0;
    // Publish the chain before installing, so a delivery racing the install
    // already finds where to go. SIG_DFL or SIG_IGN put there by someone who
    // displaced us does not replace a real handler we chain to already: glibc's
    // setxid handler must keep getting glibc's signals, or its setuid() hangs.
    chain_to(sig, &cur);
    struct ksigaction old;
    r = cb_sys4(SYS_rt_sigaction, sig, &ours, &old, 8);
    if (r == 0 && old.handler != cur.handler) chain_to(sig, &old);
    return r < 0 ? r : 1;
}

// ---- the lock -------------------------------------------------------------------

static bool lock_acquire(int64_t deadline) {
    uint32_t c = 0;
    if (atomic_compare_exchange_strong(&g.lock, &c, 1)) return true;
    if (c != 2) c = atomic_exchange(&g.lock, 2);
    while (c != 0) {
        if (cb_futex_wait(&g.lock, 2, deadline) == -ETIMEDOUT) return false;
        c = atomic_exchange(&g.lock, 2);
    }
    return true;
}

static void lock_release(void) {
    if (atomic_exchange(&g.lock, 0) == 2) cb_futex_wake(&g.lock, 1);
}

// ---- registry -----------------------------------------------------------------------

static void *reserve(size_t bytes) {
    long p = cb_sys6(SYS_mmap, 0, (long)bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p < 0 && p > -4096 ? NULL : (void *)p;
}

// Commits the first `bytes` of a reserved region (a syscall, safe while threads are held).
static long commit(void *base, size_t bytes) {
    size_t page = 4096, len = (bytes + page - 1) & ~(page - 1);
    return cb_sys3(SYS_mprotect, base, len, PROT_READ | PROT_WRITE);
}

static uint32_t hash_index(int32_t tid, uint32_t size) { return ((uint32_t)tid * 2654435761u) & (size - 1); }

static void hash_insert(int32_t tid, uint32_t idx) {
    uint32_t h = hash_index(tid, g.hash_size);
    while (g.hash[h]) h = (h + 1) & (g.hash_size - 1);
    g.hash[h] = idx + 1;
}

static long hash_rebuild(uint32_t need) {
    uint32_t size = 1024;
    while (size < need * 2) size *= 2;
    if (size > g.hash_committed) {
        long r = commit(g.hash, (size_t)size * sizeof *g.hash);
        if (r < 0) return r;
        g.hash_committed = size;
    }
    g.hash_size = size;
    memset(g.hash, 0, (size_t)size * sizeof *g.hash);
    uint32_t count = atomic_load(&g.count);
    for (uint32_t i = 0; i < count; i++) hash_insert(g.slots[i].tid, i);
    return 0;
}

static long hash_find(int32_t tid) {
    for (uint32_t h = hash_index(tid, g.hash_size); g.hash[h]; h = (h + 1) & (g.hash_size - 1))
        if (g.slots[g.hash[h] - 1].tid == tid) return g.hash[h] - 1;
    return -1;
}

static long slot_append(int32_t tid) {
    uint32_t count = atomic_load(&g.count);
    if (count == MAX_SLOTS) return -ENOMEM;
    if (count == g.capacity) {
        uint32_t cap = g.capacity ? g.capacity * 2 : 256;
        long r = commit(g.slots, (size_t)cap * sizeof *g.slots);
        if (r < 0) return r;
        g.capacity = cap;
    }
    if ((count + 1) * 2 > g.hash_size) {
        long r = hash_rebuild(count + 1);
        if (r < 0) return r;
    }
    g.slots[count] = (struct slot){.tid = tid};
    hash_insert(tid, count);
    atomic_store(&g.count, count + 1);  // publish after the slot is written (handlers bound idx by it)
    return count;
}

// Drops the slots of threads that are gone. Runs with no thread held.
static long compact(void) {
    uint32_t count = atomic_load(&g.count), kept = 0;
    for (uint32_t i = 0; i < count; i++) {
        if ((atomic_load(&g.slots[i].state) & 0xff) == P_GONE) continue;
        if (kept != i) {
            g.slots[kept] = g.slots[i];
            atomic_store(&g.slots[kept].state, 0);
        }
        kept++;
    }
    if (kept == count) return 0;
    atomic_store(&g.count, kept);
    return hash_rebuild(kept);
}

// ---- setup ----------------------------------------------------------------------------

static void reset_after_fork(void) {
    atomic_store(&g.lock, 0);
    atomic_store(&g.live_gen, 0);
    g.pid = 0;
}

static void register_atfork(void) { pthread_atfork(NULL, NULL, reset_after_fork); }


// Opens /proc/self/task for this process and forgets another process's threads. Runs
// under the lock, before any thread is signalled, so it may allocate.
static long setup(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_atfork);
    pid_t pid = (pid_t)cb_sys0(SYS_getpid);
    if (g.pid == pid) return 0;
    if (!g.slots) {
        g.slots = reserve((size_t)MAX_SLOTS * sizeof *g.slots);
        g.hash = reserve((size_t)HASH_MAX * sizeof *g.hash);
        if (!g.slots || !g.hash) return -ENOMEM;
    }
    // A new secret per process: a forked child does not share its parent's tokens.
    long got = cb_sys3(SYS_getrandom, &g.secret, sizeof g.secret, 0);
    if (got != (long)sizeof g.secret) return got < 0 ? got : -EIO;
    if (g.task_fd >= 0) cb_sys1(SYS_close, g.task_fd);
    g.task_fd = -1;
    atomic_store(&g.count, 0);
    long r = hash_rebuild(0);
    if (r < 0) return r;
    // Opened once and kept: still usable after a Landlock restriction that
    // would forbid opening it again (the libpsx failure, go-landlock#39).
    long fd = cb_sys4(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return fd;
    g.task_fd = (int)fd;
    g.pid = pid;
    return 0;
}

// ---- one broadcast ---------------------------------------------------------------------

struct run {
    uint64_t gen;
    pid_t pid;
    int32_t self;
    int64_t deadline;
    siginfo_t si;              // template for every send of this generation
    uint32_t signalled;        // successful sends
    uint32_t resolved;         // signalled slots that /proc showed gone or skipped
    uint32_t skipped_present;  // skipped tasks still in the thread count
    uint32_t vanishing;        // of those, the ones that may exit at any moment
    uint32_t unsent;           // sends refused with EAGAIN, to retry
    uint32_t refused;          // sends refused for good
    uint32_t rounds;
    bool resend;               // the handler was displaced: signal the stragglers again
    long error;                // first registry error during a scan
};

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static bool resolve(struct slot *s, uint64_t gen, enum phase to, int32_t reason) {
    uint64_t expected = mkstate(gen, P_SIGNALLED);
    if (!atomic_compare_exchange_strong(&s->state, &expected, mkstate(gen, to))) return false;
    s->reason = reason;
    return true;
}

static void mark(struct slot *s, uint64_t gen, enum phase to, int32_t reason) {
    s->reason = reason;
    atomic_store(&s->state, mkstate(gen, to));
}

// What /proc says of a task that has not answered, or is remembered as one
// that never will.
enum verdict { V_UNKNOWN, V_THREAD, V_GONE, V_ZOMBIE_MAIN, V_IO_WORKER, V_EXITING };

static enum verdict look_at(const struct run *run, const struct slot *s) {
    cb_task_info ti;
    long r = cb_proc_task_info(g.task_fd, s->tid, false, &ti);
    if (r == -ENOENT || (r == 0 && ti.state == 'X')) return V_GONE;
    if (r < 0) return V_UNKNOWN;
    if (s->tid == run->pid && ti.state == 'Z') return V_ZOMBIE_MAIN;
    if (ti.flags & PF_IO_WORKER) return V_IO_WORKER;
    if ((ti.flags & PF_EXITING) || ti.state == 'Z') return V_EXITING;
    return V_THREAD;
}

// Settles a slot that will never answer: gone, or skipped (runs no application
// code). A signalled slot is settled by CAS, since its thread may arrive after
// all; the others are simply marked. Returns false when the slot must be
// signalled or waited for.
static bool settle(struct run *run, struct slot *s, enum verdict v) {
    if (v == V_THREAD) s->kind = K_THREAD;
    if (v == V_UNKNOWN || v == V_THREAD) return false;
    enum phase to = v == V_GONE ? P_GONE : P_SKIPPED;
    int32_t reason = v == V_GONE ? 0
                   : v == V_ZOMBIE_MAIN ? CB_REASON_ZOMBIE_MAIN
                   : v == V_IO_WORKER ? CB_REASON_IO_WORKER : CB_REASON_EXITING;
    if (phase_of(atomic_load(&s->state), run->gen) != P_SIGNALLED) mark(s, run->gen, to, reason);
    else if (resolve(s, run->gen, to, reason)) run->resolved++;
    else return false;
    s->kind = v == V_ZOMBIE_MAIN ? K_ZOMBIE_MAIN : v == V_IO_WORKER ? K_IO_WORKER : K_THREAD;
    if (to == P_SKIPPED) {
        run->skipped_present++;
        if (v != V_ZOMBIE_MAIN) run->vanishing++;  // it may exit at any moment
    }
    return true;
}

// Queues the broadcast signal for slot `i`, carrying the generation's token.
static long send(struct run *run, const struct slot *s, uint32_t i) {
    run->si.si_value.sival_ptr = (void *)(uintptr_t)(token_of(run->gen) << IDX_BITS | i);
    return cb_sys4(SYS_rt_tgsigqueueinfo, run->pid, s->tid, run->si.si_signo, &run->si);
}

// Signals every slot that has not been signalled in this generation.
static void send_pass(struct run *run) {
    uint32_t count = atomic_load(&g.count);
    for (uint32_t i = 0; i < count; i++) {
        struct slot *s = &g.slots[i];
        enum phase ph = phase_of(atomic_load(&s->state), run->gen);
        if (ph != P_NONE && ph != P_UNSENT) continue;
        if (ph == P_UNSENT) run->unsent--;
        if (s->tid == run->self) { mark(s, run->gen, P_SELF, 0); continue; }
        if (s->kind == K_ZOMBIE_MAIN && settle(run, s, V_ZOMBIE_MAIN)) continue;
        // A tid may be reused: look at a remembered io worker again (rare and cheap).
        if (s->kind == K_IO_WORKER && settle(run, s, look_at(run, s))) continue;
        mark(s, run->gen, P_SIGNALLED, 0);
        long r = send(run, s, i);
        if (r == 0) run->signalled++;
        else if (r == -ESRCH) mark(s, run->gen, P_GONE, 0);
        else if (r == -EAGAIN) { mark(s, run->gen, P_UNSENT, CB_REASON_QUEUE_FULL); run->unsent++; }
        else { s->ret = r; mark(s, run->gen, P_ABANDONED, CB_REASON_SEND_FAILED); run->refused++; }
    }
}

// Looks at the signalled threads that have not arrived: the gone, the exiting,
// the zombie main thread and io_uring workers will never answer.
static void triage(struct run *run) {
    // Someone may have replaced our handler mid-run (a raw rt_sigaction): the
    // deliveries it swallowed are lost, so reinstall and signal the stragglers
    // again. A second delivery is harmless: only one can win the slot's CAS.
    if (ensure_handler(run->si.si_signo) == 1) run->resend = true;
    bool resend = run->resend;
    run->resend = false;
    uint32_t count = atomic_load(&g.count);
    for (uint32_t i = 0; i < count; i++) {
        struct slot *s = &g.slots[i];
        if (atomic_load(&s->state) != mkstate(run->gen, P_SIGNALLED)) continue;
        if (resend) {
            long sent = send(run, s, i);
            if (sent == -EAGAIN) run->resend = true;
            if (sent == -ESRCH) { settle(run, s, V_GONE); continue; }
        }
        settle(run, s, look_at(run, s));
    }
}

// Waits until every signalled thread arrived or was resolved by triage.
// Triage runs only when a whole slice passed without a single arrival.
static long wait_arrivals(struct run *run) {
    int64_t slice = 2000000;
    uint32_t last = UINT32_MAX;
    for (;;) {
        uint32_t target = run->signalled - run->resolved;
        atomic_store(&g.arrive_target, target);
        uint32_t a = atomic_load(&g.arrived);
        if (a >= target) return 0;
        int64_t now = cb_now_ns();
        if (now >= run->deadline) return -ETIMEDOUT;
        if (a == last) {
            triage(run);
            slice = min64(slice * 2, 100000000);
            last = UINT32_MAX;
            continue;
        }
        last = a;
        cb_futex_wait(&g.arrived, a, min64(run->deadline, now + slice));
    }
}

static void note_seen(int32_t tid, void *ctx) {
    struct run *run = ctx;
    long idx = hash_find(tid);
    if (idx < 0) idx = slot_append(tid);
    if (idx < 0) run->error = run->error ? run->error : idx;
    else g.slots[idx].seen = g.scan_no;
}

// Lists /proc/self/task again: new tids get slots, vanished ones are marked gone.
static long rescan(struct run *run) {
    g.scan_no++;
    long r = cb_proc_scan(g.task_fd, g.dents, sizeof g.dents, note_seen, run);
    if (r < 0) return r;
    if (run->error) return run->error;
    uint32_t count = atomic_load(&g.count);
    for (uint32_t i = 0; i < count; i++) {
        struct slot *s = &g.slots[i];
        if (s->seen == g.scan_no) continue;
        enum phase ph = phase_of(atomic_load(&s->state), run->gen);
        if (ph == P_UNSENT) run->unsent--;
        if (ph == P_SKIPPED) {
            run->skipped_present--;
            if (s->reason != CB_REASON_ZOMBIE_MAIN) run->vanishing--;
        }
        if (ph == P_NONE || ph == P_UNSENT || ph == P_SKIPPED) mark(s, run->gen, P_GONE, 0);
    }
    return 0;
}

// True when the thread count proves that every task is known: each held thread and
// the caller are certainly present, and each skipped task that could vanish is
// checked to exist after the count was read (a vanished one could hide an
// unseen thread in the count).
static long proven_complete(struct run *run) {
    long t = cb_proc_thread_count(g.task_fd);
    if (t < 0) return t;
    if (run->vanishing) {
        uint32_t count = atomic_load(&g.count);
        for (uint32_t i = 0; i < count; i++) {
            struct slot *s = &g.slots[i];
            if (phase_of(atomic_load(&s->state), run->gen) == P_SKIPPED && s->reason != CB_REASON_ZOMBIE_MAIN &&
                cb_sys3(SYS_tgkill, run->pid, s->tid, 0) == -ESRCH)
                return 0;
        }
    }
    uint32_t held = run->signalled - run->resolved;
    return t == (long)(1 + held + run->skipped_present);
}

enum { STOPPED = 0, UNREACHABLE = 1 };

// Steps 1 and 2: returns STOPPED, UNREACHABLE, or -errno for a setup failure.
static long stop_world(struct run *run) {
    for (;;) {
        run->rounds++;
        send_pass(run);
        if (run->refused) return UNREACHABLE;
        long r = wait_arrivals(run);
        if (r == -ETIMEDOUT) return UNREACHABLE;
        if (run->unsent) {  // the queue was full: arrivals free entries; back off a little
            if (cb_now_ns() >= run->deadline) return UNREACHABLE;
            cb_futex_wait(&g.arrived, atomic_load(&g.arrived), min64(run->deadline, cb_now_ns() + 1000000));
            continue;
        }
        r = proven_complete(run);
        if (r < 0) return r;
        if (r == 1) return STOPPED;
        if (cb_now_ns() >= run->deadline) return UNREACHABLE;
        r = rescan(run);
        if (r < 0) return r;
    }
}

// Gives up on every thread that has not arrived; after this no arrival can happen.
static void abandon(struct run *run) {
    uint32_t count = atomic_load(&g.count);
    for (uint32_t i = 0; i < count; i++) {
        struct slot *s = &g.slots[i];
        if (resolve(s, run->gen, P_ABANDONED, CB_REASON_NO_RESPONSE)) run->resolved++;
        else if (phase_of(atomic_load(&s->state), run->gen) == P_UNSENT) mark(s, run->gen, P_ABANDONED, CB_REASON_QUEUE_FULL);
    }
}

// Waits until `target` held threads have finished (run the call or left).
static bool wait_finished(uint32_t target, int64_t deadline) {
    uint32_t f;
    while ((f = atomic_load(&g.finished)) < target) {
        if (cb_now_ns() >= deadline) return false;
        cb_futex_wait(&g.finished, f, deadline);
    }
    return true;
}

// Step 3: publishes RUN or ABORT to the held threads and waits until each has
// run the call or left. Returns false when the deadline passed first.
static bool release(struct run *run, uint32_t op, int64_t deadline) {
    uint32_t held = atomic_load(&g.arrived);
    atomic_store(&g.finish_target, held);
    atomic_store(&g.cmd, mkcmd(run->gen, op));
    if (held) cb_futex_wake(&g.cmd, INT32_MAX);
    return wait_finished(held, deadline);
}

// Threads of an earlier generation still running the call (it outlived its
// deadline) keep the registry busy: wait for them before touching it.
static bool drain(int64_t deadline) { return wait_finished(atomic_load(&g.finish_target), deadline); }

// ---- the report ------------------------------------------------------------------------

static bool is_problem(const struct slot *s, uint64_t gen, long result, int32_t *kind) {
    switch (phase_of(atomic_load(&s->state), gen)) {
    case P_ABANDONED: *kind = CB_PROBLEM_UNREACHABLE; return true;
    case P_ARRIVED: *kind = CB_PROBLEM_NO_RESULT; return true;
    case P_GAVE_UP: *kind = CB_PROBLEM_NO_RESULT; return true;
    case P_SKIPPED: *kind = CB_PROBLEM_SKIPPED; return true;
    case P_DONE: *kind = CB_PROBLEM_MISMATCH; return s->ret != result;
    default: return false;
    }
}

static int32_t reason_from_proc(const cb_task_info *ti, int sig) {
    if (ti->has_sigblk && (ti->sigblk >> (sig - 1) & 1)) return CB_REASON_SIGNAL_BLOCKED;
    if (ti->state == 't' || ti->state == 'T') return CB_REASON_STOPPED;
    if (ti->state == 'D') return CB_REASON_UNINTERRUPTIBLE;
    return CB_REASON_NO_RESPONSE;
}

// Fills the report from the slots. Runs once no thread is held, so it may
// allocate and read /proc at leisure.
static void build_report(struct run *run, int sig, cb_report *out) {
    uint32_t count = atomic_load(&g.count), n = 0;
    int32_t kind;
    for (uint32_t i = 0; i < count; i++) {
        if (is_problem(&g.slots[i], run->gen, out->result, &kind)) n++;
        if (phase_of(atomic_load(&g.slots[i].state), run->gen) == P_DONE) out->threads++;
    }
    if (out->changed || out->status == CB_OK) out->threads++;  // the caller
    if (!n) return;
    out->problems = calloc(n, sizeof *out->problems);
    if (!out->problems) return;
    for (uint32_t i = 0; i < count; i++) {
        struct slot *s = &g.slots[i];
        if (!is_problem(s, run->gen, out->result, &kind)) continue;
        cb_problem *p = &out->problems[out->problem_count++];
        *p = (cb_problem){.tid = s->tid, .kind = kind, .reason = s->reason, .result = s->ret};
        cb_task_info ti;
        bool unreachable = kind == CB_PROBLEM_UNREACHABLE;
        if (cb_proc_task_info(g.task_fd, s->tid, unreachable, &ti) == 0) {
            memcpy(p->name, ti.name, sizeof p->name);
            p->state = ti.state;
            if (unreachable && p->reason == CB_REASON_NO_RESPONSE) p->reason = reason_from_proc(&ti, sig);
        }
        if (kind == CB_PROBLEM_SKIPPED) out->skipped++;
        if (kind == CB_PROBLEM_MISMATCH) continue;
        if (kind != CB_PROBLEM_UNREACHABLE || p->reason != CB_REASON_SEND_FAILED) p->result = 0;
    }
}

static void write_str(const char *s) { cb_sys3(SYS_write, 2, s, strlen(s)); }

static void write_num(long v) {
    char buf[24];
    int n = 0;
    bool neg = v < 0;
    unsigned long u = neg ? -(unsigned long)v : (unsigned long)v;
    do buf[sizeof buf - 1 - n++] = (char)('0' + u % 10); while ((u /= 10) > 0);
    if (neg) buf[sizeof buf - 1 - n++] = '-';
    cb_sys3(SYS_write, 2, buf + sizeof buf - n, n);
}

// Glibc and Go abort when threads disagree; callers that ask for that get it.
static _Noreturn void abort_on_mismatch(const cb_report *r) {
    write_str("allthreads: threads disagree on the call's result; caller got ");
    write_num(r->result);
    for (uint32_t i = 0; i < r->problem_count; i++) {
        if (r->problems[i].kind != CB_PROBLEM_MISMATCH) continue;
        write_str("; tid ");
        write_num(r->problems[i].tid);
        write_str(" (");
        write_str(r->problems[i].name);
        write_str(") got ");
        write_num(r->problems[i].result);
    }
    write_str("\n");
    abort();
}

// ---- entry point -----------------------------------------------------------------------

// Relaxed (glibc's semantics): the caller runs first, RUN is published before
// any signal, and each thread runs the call as soon as its handler runs.
static int32_t run_relaxed(struct run *run, cb_report *out) {
    out->result = cb_sys6(g.nr, g.args[0], g.args[1], g.args[2], g.args[3], g.args[4], g.args[5]);
    if (out->result < 0 && out->result > -4096) return CB_CALL_FAILED;
    atomic_store(&g.cmd, mkcmd(run->gen, CMD_RUN));
    atomic_store(&g.live_gen, run->gen);
    long r = stop_world(run);
    if (r != STOPPED) abandon(run);
    atomic_store(&g.live_gen, 0);
    if (r == STOPPED) return CB_OK;
    out->changed = 1;
    out->setup_errno = r < 0 ? (int32_t)-r : 0;
    return r < 0 ? CB_SETUP_FAILED : CB_UNREACHABLE;
}

// Strict: stop every thread, prove none is missing, then decide.
static int32_t run_strict(struct run *run, bool probe, cb_report *out) {
    atomic_store(&g.hold_until, run->deadline + 2000000000);
    atomic_store(&g.live_gen, run->gen);
    long r = stop_world(run);
    if (r != STOPPED) {
        abandon(run);
        release(run, CMD_ABORT, run->deadline + 1000000000);  // leaving takes microseconds
        atomic_store(&g.live_gen, 0);
        out->setup_errno = r < 0 ? (int32_t)-r : 0;
        return r < 0 ? CB_SETUP_FAILED : CB_UNREACHABLE;
    }
    out->result = cb_sys6(g.nr, g.args[0], g.args[1], g.args[2], g.args[3], g.args[4], g.args[5]);
    bool failed = out->result < 0 && out->result > -4096 && !probe;
    bool complete = release(run, failed ? CMD_ABORT : CMD_RUN, failed ? run->deadline + 1000000000 : run->deadline);
    atomic_store(&g.live_gen, 0);
    if (failed) return CB_CALL_FAILED;
    out->changed = 1;
    return complete ? CB_OK : CB_INCOMPLETE;
}

static int32_t run_protocol(struct run *run, long nr, const long args[6], const cb_options *opts, cb_report *out) {
    g.nr = nr;
    memcpy(g.args, args, sizeof g.args);
    atomic_store(&g.cmd, mkcmd(run->gen, CMD_WAIT));
    atomic_store(&g.arrived, 0);
    atomic_store(&g.arrive_target, 0);
    atomic_store(&g.finished, 0);
    atomic_store(&g.finish_target, 0);
    atomic_fetch_add_explicit(&stat_broadcasts, 1, memory_order_relaxed);
    return opts->relaxed ? run_relaxed(run, out) : run_strict(run, opts->probe != 0, out);
}

void cb_broadcast(long nr, const long args[6], const cb_options *opts, cb_report *out) {
    int64_t t0 = cb_now_ns();
    *out = (cb_report){0};
    if (opts->timeout_ns <= 0 || opts->signal < 33 || opts->signal > 64) {
        out->status = CB_INVALID;
        return;
    }
    struct run run = {.deadline = t0 + opts->timeout_ns};
    if (!lock_acquire(run.deadline)) {
        out->status = CB_BUSY;
        out->elapsed_ns = cb_now_ns() - t0;
        return;
    }
    long r = setup();
    if (r == 0) r = drain(run.deadline) ? 0 : -EBUSY;
    if (r == 0) r = ensure_handler(opts->signal);
    if (r == 0) r = compact();
    if (r < 0) {
        out->status = r == -EBUSY ? CB_BUSY : CB_SETUP_FAILED;
        out->setup_errno = (int32_t)-r;
    } else {
        run.gen = ++g.gen;
        run.pid = g.pid;
        run.self = (int32_t)cb_sys0(SYS_gettid);
        run.si = (siginfo_t){.si_signo = opts->signal, .si_code = SI_QUEUE};
        run.si.si_pid = run.pid;
        out->status = run_protocol(&run, nr, args, opts, out);
        out->rounds = run.rounds;
        if (out->status == CB_INCOMPLETE || out->status == CB_OK) {
            for (uint32_t i = 0; i < atomic_load(&g.count); i++) {
                enum phase ph = phase_of(atomic_load(&g.slots[i].state), run.gen);
                if (ph == P_GAVE_UP) out->status = CB_INCOMPLETE;
                if (ph == P_DONE && g.slots[i].ret != out->result && out->status == CB_OK) out->status = CB_MISMATCH;
            }
        }
        build_report(&run, opts->signal, out);
    }
    lock_release();
    out->elapsed_ns = cb_now_ns() - t0;
    if (out->status == CB_MISMATCH && opts->abort_on_mismatch) abort_on_mismatch(out);
}

void cb_report_free(cb_report *report) {
    free(report->problems);
    report->problems = NULL;
    report->problem_count = 0;
}

void cb_get_stats(cb_stats *out) {
    out->broadcasts = atomic_load(&stat_broadcasts);
    out->handler_runs = atomic_load(&stat_handler_runs);
    out->not_ours = atomic_load(&stat_not_ours);
}
