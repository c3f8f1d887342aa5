// The all-threads broadcast: run a program of system calls (1 to CB_MAX_STEPS
// steps) on every thread of the process, in one stop.
//
// PROTOCOL (one broadcast, generation G, under the process-wide lock)
//
//  0. Lock and drain. The lock names its owner's tid; a waiter takes over a
//     lock whose owner is proven dead and cleans up after it first (I11). A
//     handler of generation G-1 that claimed its slot and has not finished (its
//     program outlived G-1's deadline) is waited for, unless its thread is proven
//     dead (I12): until then G would share the program and the slots with it.
//     Then the program is copied into memory reserved beforehand.
//  1. Stop. A thread count above the registry's (threads born since the last
//     broadcast) is listed first, so that one send pass reaches them. Every known thread except the caller is sent our signal with
//     rt_tgsigqueueinfo (si_code SI_QUEUE, si_value = token(G) | slot index).
//     Its handler claims its slot SIGNALLED -> ARRIVED (CAS), counts itself in
//     `arrived` and sleeps on `cmd` until the caller decides.
//  2. Prove nobody is missing. When every signalled thread has arrived (or
//     /proc shows it gone, exiting, the zombie main thread or an io_uring
//     worker), the caller reads the thread count (the link count of
//     /proc/self/task: 2 + the counter `Threads:` shows). Equal to
//     1 + present + skipped-present: no unseen thread exists. Otherwise the
//     caller rescans /proc/self/task, signals the new tids, and repeats.
//  3. Decide. The caller runs the steps itself, in order, and stops at the
//     first that fails (a result its expectation does not allow; a probe step
//     never fails). If step 1 failed it publishes ABORT: the held threads leave
//     without running anything. Otherwise it publishes RUN for the steps before
//     the failed one (all of them if none failed) with one futex wake: each held
//     thread runs those steps, stops at the first result that is not the
//     expected one (the caller's, or the step's fixed value), records where it
//     stopped and returns to what it was doing.
//  4. Compare. The caller waits until every held thread has finished (or died
//     inside, I12) and no slot is still claimed (I10), then names each thread
//     that stopped early, with the step and both results, and each that died.
//  If the deadline passes in step 1 or 2, the still-SIGNALLED slots are CASed
//  to ABANDONED, ABORT is published, and the unreachable threads are named.
//
// RELAXED MODE (an option; glibc's semantics): the caller runs the steps first
// and publishes RUN (for the steps before any that failed) before signalling,
// so each thread runs them as soon as its handler runs and goes on at once:
// one wake-up per thread instead of two. A thread cloned during the broadcast
// by one that had already run the steps runs them again: relaxed is for
// programs whose steps may run twice (setting an id, dropping a capability).
// I2 and I3 do not hold: an unreachable thread is reported after the others
// changed. Step 2 still proves, before success is reported, that every thread
// alive then has run the call (I4); as threads that ran it may exit meanwhile,
// each is checked to still exist after the count is read.
//
// INVARIANTS, and why they hold (each enforcing line is tagged with its name)
//  I1 Never hang. The caller's every wait is a futex wait with the absolute
//     deadline. A handler waits only for `cmd`, which the caller publishes by
//     its deadline; should the caller be frozen past it (a tracer, a call that
//     blocks on the caller), the handler gives up HOLD_GRACE_NS later without
//     running the call, and the caller reports it as having no result.
//  I2 No thread changes unless all can (strict). Nobody runs the call before
//     step 3, and step 3 starts only once every thread is held (step 2).
//  I3 Atomic for application code (strict). After step 2 no thread runs
//     application code: each is held in the handler, or skipped (runs none).
//     A held thread runs the call before it returns to application code, so
//     once any thread runs application code with the new state, none runs
//     with the old.
//  I4 No unseen thread, no double run. A thread signalled inside clone()
//     finishes it before it handles the signal, so its child exists (and is in
//     the thread count) before the parent arrives; step 2 finds it. Strict: a
//     held thread cannot clone or exit, so the count compares like with like.
//     Relaxed: a thread that ran the call may exit and so cancel out an unseen
//     newborn in the count, so each one counted is checked to exist (tgkill
//     with signal 0) after the count was read: a thread that exists after the
//     read existed at the read. Then every thread alive at the read is known
//     and has run the call, and every later thread was cloned by one that had,
//     after it had (a clone completes before the handler runs). A departure is
//     believed only on ESRCH, never because a listing omitted a tid (getdents64
//     on /proc/self/task can skip an entry when the thread at its cursor exits).
//     Each slot is claimed once per generation (CAS), so no thread runs twice.
//  I5 Only our broadcast runs the call. The handler acts only on SI_QUEUE
//     from our own pid carrying token(G) of the live generation: the token
//     mixes a getrandom() secret, so other processes (which may forge si_pid
//     and si_code SI_QUEUE) cannot produce it, and a stale delivery carries
//     an old generation. Anything else goes to the handler we replaced
//     (glibc's SIGSETXID handler for 33), so glibc's setuid keeps working.
//     The slot CAS (SIGNALLED,G) -> (ARRIVED,G) lets exactly one of the
//     handler and the abandoning caller win; the caller changes a slot that a
//     handler could claim only through a CAS from the state it observed.
//  I6 Async-signal safety. While threads are held, the caller makes only raw
//     system calls on memory reserved beforehand (mmap'd registry, static
//     buffers): no malloc, stdio, opendir or lock another thread can hold.
//     The handler uses raw system calls, atomics and futexes only, never
//     errno. The report is built while late handlers may still be inside (one
//     may hold a malloc arena lock for as long as its step blocks), so its
//     problem array is mapped with the raw mmap syscall, never the heap. The
//     handler's mask leaves the synchronous signals deliverable (signal.c): a
//     step that traps (seccomp RET_TRAP -> SIGSYS) reaches the application's
//     handler, as it would outside a broadcast, instead of killing the process.
//  I7 Fork and vfork. The lock word names its owner's tid, which is not in a
//     fork child's thread group (a child that inherits it held takes it over,
//     I11) and the registry is rebuilt whenever getpid() changed; the parent's
//     descriptor number is never closed in the child (it may be the child's own
//     file by now): a new one is opened. A vfork child shares its parent's memory: alone in its
//     thread group it takes the single-thread path, which touches no shared
//     state; otherwise (unshare denied by a seccomp profile) it is refused.
//  I8 Generations do not mix. Slot states carry the generation modulo 2^56,
//     `cmd` modulo 2^30 and both counters modulo 2^10; a late handler of G-1 can
//     touch none of G's, and the drain (step 0) keeps G from starting while one
//     is still inside its handler, so the short tags never meet (I10).
//
//  I9 A caller failure at step k leaves every thread with exactly steps 1..k-1:
//     the caller publishes that limit before any thread runs a step (strict:
//     with RUN; relaxed: before the first signal), and a thread that stops
//     earlier is named in a mismatch.
//  I10 Claimed means inside. A handler reads and writes the engine's shared
//     words (program, cmd, both counters) only while its slot is ARRIVED: it
//     counts itself in before it stores its final state (handler.c), and the
//     caller, once the counts are complete, waits for the states too. With the
//     drain (I8), no handler of an older generation is inside when G retags the
//     counters, so their 10-bit tag (and cmd's 30-bit one) can wrap harmlessly:
//     a stalled handler keeps its slot ARRIVED and every later broadcast BUSY
//     (naming it in no report, but never mixing generations) until it goes on
//     or dies (I12).
//  I11 A dead owner does not keep the lock. Death is believed only on ESRCH
//     from tgkill(getpid(), owner, 0), or when the task at the owner's tid has
//     another identity (its pidfs inode number, else its starttime) than the one
//     the owner published before its CAS (registry.c: a newborn took the dead
//     owner's tid): a live owner, even stopped by a tracer, is never overtaken.
//     The new owner abandons the dead generation's unclaimed slots (CAS),
//     publishes ABORT to its held threads, drains, and rebuilds the registry
//     (the owner may have died inside it).
//     Threads a dead strict caller holds do not wait for its hold deadline: a
//     held thread asks every HOLD_LOOK_NS (50 ms, handler.c) whether cb_g.caller
//     still exists, and leaves (GAVE_UP) on ESRCH. A broadcast from a signal
//     handler that interrupted this thread's own broadcast is BUSY (EDEADLK) at
//     once (unless the identity names our tid with another value: a dead
//     predecessor's). A longjmp out of a broadcast leaves a live owner: not
//     recovered.
//  I12 A thread that dies inside the handler is buried, not waited for: the
//     caller CASes ARRIVED -> DIED only after tgkill says ESRCH (or, in the drain,
//     when the task now at its tid started in a later tick than the slot was
//     signalled: a newborn took the tid, I14), and names it (CB_REASON_DIED,
//     status INCOMPLETE). Strict: a held thread counted into `arrived` before any
//     syscall, so a died one is subtracted from `finished`'s target; relaxed: it
//     never counted in, so from `arrived`'s. Within its own broadcast a death
//     whose tid is already reused is not seen: named still running, buried by
//     the next drain.
//  I14 Identity, not just existence. A tid counted as present must be the task
//     it stood for: tgkill(tid, 0) succeeding also for a newborn that took a
//     departed thread's tid. Strict: a skipped task that may exit is compared by
//     its starttime (stat field 22, fixed for life, remembered when /proc showed
//     it skipped). Relaxed: before each send pass and after the count, the
//     caller reads the namespace's last pid (/proc/sys/kernel/ns_last_pid, kept
//     open); a thread that ran the call is compared by starttime only if its tid
//     is among the pids handed out since the pass that signalled it (usually
//     none: a 2-us read per pass, no per-thread cost; the thread that answered
//     held its tid when it was signalled, so only a pid handed out after that
//     pass's read can name another task now). A task that started in a later
//     clock tick than the slot was signalled is not the one that answered; the
//     same tick is undecidable and treated as a newcomer: the slot is signalled
//     again (relaxed may then run the call twice on one thread, which it allows).
//     Assumes fewer than pid_max pids are handed out during one broadcast.
//  I13 The deadline is exceeded by a bounded amount. A deadline past INT64_MAX
//     saturates (no deadline, never a wrap). After it, the report reads /proc
//     for at most REPORT_PROC_BUDGET_NS (report.c).
//  I15 Names are not tids. /proc of an ancestor PID namespace (`unshare --pid --fork`
//     without a /proc of its own) lists each thread by its id in that namespace, which
//     tgkill and gettid() do not know. cb_setup detects it (the NSpid line of /proc/self
//     has more than one field) and every newly listed task is translated once, by its
//     own NSpid line: a slot keeps the tid (signals, the caller, the report) and the
//     name (every /proc read, the registry's hash). /proc of a namespace we are not in
//     cannot list us at all: refused before anything is done (CB_PROC_ELSEWHERE).
//
// Cost: one signal and one futex wake per thread (two wake-ups; relaxed: one),
// a few syscalls for the caller; /proc costs two fstats (the count before the
// first signal and after the arrivals) unless threads appeared or vanished since
// the previous broadcast (a listing); relaxed adds one tgkill(0) per thread.
#define _GNU_SOURCE
#include "CBroadcast.h"
#include "engine.h"
#include "report.h"

#include <sched.h>
#include <stddef.h>
#include <string.h>

// A held thread waits for the decision this long after the caller's deadline.
#define HOLD_GRACE_NS 2000000000LL
// Leaving after ABORT takes a wake-up per held thread (~5 us each on 2 CPUs): the caller
// waits this long at most, then names those still inside; the next broadcast drains them.
#define LEAVE_GRACE_NS 20000000LL
// I13: how far past its deadline a broadcast may return. After the deadline the caller
// waits at most LEAVE_GRACE_NS for held threads to leave (strict ABORT), reads /proc for
// the report at most REPORT_PROC_BUDGET_NS (10 ms, report.c), finishes the /proc read,
// signal or futex slice in progress (every O(N) pass that makes system calls looks at the
// clock, CLOCK_CHECK_EVERY slots at a time), and makes memory-only passes over the slots
// (~10 ns per slot). The one exception that grows with the threads: a listing of
// /proc/self/task begun before the deadline is finished (~1 us per task; a thread must be
// listed to be named). Measured with 8,000 threads blocking the signal and a 50 ms deadline:
// see the deadline-bound torture row.
#define CB_OVERRUN_BOUND_NS 50000000LL
#define CLOCK_CHECK_EVERY 32u
// Waiting for arrivals: a slice without a single arrival sends triage to /proc. A slice
// grows with the threads still missing (each arrival costs a wake-up, ~5 us on 2 CPUs),
// from ARRIVAL_SLICE_MIN_NS for one to ARRIVAL_SLICE_NS, and doubles after each triage,
// up to ARRIVAL_SLICE_MAX_NS. A short first slice matters when one or two
// threads are missing for good: a newborn or an exiting thread whose signals glibc
// keeps blocked, found exiting (or arriving) by triage.
#define ARRIVAL_SLICE_MIN_NS 25000LL
#define ARRIVAL_SLICE_PER_THREAD_NS 25000LL
#define ARRIVAL_SLICE_NS 2000000LL
#define ARRIVAL_SLICE_MAX_NS 100000000LL
#define ARRIVAL_SLICE_DOUBLINGS 13  // 25 us << 13 > ARRIVAL_SLICE_MAX_NS
// The count disagreed and nothing new turned up: wait this long (doubling) before looking again.
#define RECOUNT_PAUSE_NS 20000LL
#define RECOUNT_PAUSE_MAX_NS 1000000LL
// The signal queue was full: arrivals free entries; wait this long before sending again.
#define QUEUE_FULL_PAUSE_NS 1000000LL
// A late handler of the previous generation: look again this often.
#define DRAIN_SLICE_NS 200000LL
// ... and compare its thread's starttime every this many looks (a /proc read per thread).
#define DRAIN_IDENTIFY_EVERY 16u

#define PF_EXITING 0x00000004u
#define PF_IO_WORKER 0x00000010u
// Linux 6.4+: a kernel worker cloned from a user thread (vhost; io_uring workers carry it
// too). It blocks every signal and runs no application code: skipped like an io worker.
#define PF_USER_WORKER 0x00004000u

// Whether a handler of generation cb_g.gen may still be inside (see step 0).
static bool maybe_late;

struct run {
    uint64_t gen;
    pid_t pid;
    int32_t self;
    bool relaxed;
    int64_t deadline;
    siginfo_t si;              // template for every send of this generation
    uint32_t signalled;        // successful sends
    uint32_t resolved;         // signalled slots that /proc showed gone or skipped
    uint32_t departed;         // relaxed: ran the call, then exited
    uint32_t died;             // claimed their slot and died inside the handler (P_DIED)
    long pass_pid;             // relaxed: the namespace's last pid before the current send pass (I14)
    uint32_t skipped_present;  // skipped tasks still in the thread count
    uint32_t vanishing;        // of those, the ones that may exit at any moment
    uint32_t unsent;           // sends refused with EAGAIN, to retry
    uint32_t refused;          // sends refused for good
    uint32_t rounds;
    uint32_t progress;         // slots found, gone or departed: a reason to count again at once
    bool resend;               // the handler was displaced: signal the stragglers again
    long error;                // first registry error during a scan
};

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
// a + b for b >= 0, saturating: a deadline of INT64_MAX means "no deadline", never a wrap.
static inline int64_t add_sat(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }  // I13

static inline bool exists(const struct run *run, int32_t tid) {
    return cb_sys3(SYS_tgkill, run->pid, tid, 0) != -ESRCH;
}

// Whether the task now at the slot's tid started in a later clock tick than the slot was
// signalled (I14's rule): then it is not the thread that claimed the slot (that one held
// the tid when it was signalled, and a tid names one live task), so the claimant is gone.
// The same tick is undecidable: alive. Under a /proc of an ancestor namespace the name
// may belong to another task than the tid by now (I15): not decided there (ESRCH only).
static bool tid_taken_since_sent(const struct slot *s) {
    if (cb_g.translate) return false;
    cb_task_info ti;
    long r = cb_proc_task_info(cb_g.task_fd, s->name, false, &ti);
    return r == -ENOENT || (r == 0 && ti.start > s->sent_tick);
}

// A claimed slot (ARRIVED) whose thread is gone: it died inside the handler (a seccomp
// filter killed it at a step, say) and will never store a final state. Proven by ESRCH,
// or (`by_identity`) by a task at its tid that started after it was signalled; a slot
// whose thread lives is waited for. Returns true when this call buried it.
static bool bury(struct run *run, struct slot *s, uint64_t gen, bool by_identity) {
    uint64_t inside = mkstate(gen, P_ARRIVED);
    if (atomic_load(&s->state) != inside) return false;  // acquire: pairs with the handler's claim CAS
    bool gone = cb_sys3(SYS_tgkill, cb_g.pid, s->tid, 0) == -ESRCH || (by_identity && tid_taken_since_sent(s));  // I12, I14
    if (!gone || !atomic_compare_exchange_strong(&s->state, &inside, mkstate(gen, P_DIED))) return false;  // I12; acquire+release: pairs with the claim CAS (I5)
    s->reason = CB_REASON_DIED;
    if (run) run->died++;
    return true;
}

// Buries every claimed slot of generation `gen` whose thread died; returns how many
// slots are still claimed by a live thread (at least 1 if `deadline` cut the pass short).
// `by_identity` costs a /proc read per live claimed slot: only the drain asks for it.
static uint32_t bury_dead(struct run *run, uint64_t gen, int64_t deadline, bool by_identity) {
    uint32_t count = atomic_load(&cb_g.count), inside = 0, looked = 0;  // own
    uint64_t arrived = mkstate(gen, P_ARRIVED);
    for (uint32_t i = 0; i < count; i++) {
        if (atomic_load(&cb_g.slots[i].state) != arrived) continue;  // acquire: pairs with the handler's claim CAS and finish()
        if (++looked % CLOCK_CHECK_EVERY == 0 && cb_now_ns() >= deadline) return inside + 1;  // I13
        if (!bury(run, &cb_g.slots[i], gen, by_identity)) inside++;
    }
    return inside;
}

// Moves a slot from the state the caller observed; fails if it changed since
// (its thread may have claimed it meanwhile).
static bool transition(struct slot *s, uint64_t observed, uint64_t gen, enum phase to, int32_t reason) {
    if (!atomic_compare_exchange_strong(&s->state, &observed, mkstate(gen, to))) return false;  // I5; acquire+release: pairs with the handler's claim CAS
    s->reason = reason;
    return true;
}

// What /proc says of a task that has not answered, or is remembered as one
// that never will.
enum verdict { V_UNKNOWN, V_THREAD, V_GONE, V_ZOMBIE_MAIN, V_IO_WORKER, V_USER_WORKER, V_EXITING };

// The main thread and kernel workers keep their stat file open (keep_stat): a Landlock
// domain that denies reading /proc forbids opening it again, but not reading it, so the
// zombie main thread and the workers seen before the domain are still recognised. The
// open file names its task for life: once that task is gone it says ESRCH, and the tid is
// looked at anew by name (a thread may have it by now).
static void keep_stat(struct slot *s) {
    if (s->stat_fd >= 0) return;
    long fd = cb_proc_open_task_file(cb_g.task_fd, s->name, "stat");
    s->stat_fd = fd < 0 ? -1 : (int32_t)fd;
}

static long read_stat(struct slot *s, cb_task_info *ti) {
    if (s->stat_fd >= 0) {
        long r = cb_proc_read_stat(s->stat_fd, ti);
        if (r != -ESRCH) return r;
        cb_sys1(SYS_close, s->stat_fd);  // its task is gone: whoever has the tid now is another
        s->stat_fd = -1;
    }
    return cb_proc_task_info(cb_g.task_fd, s->name, false, ti);
}

static enum verdict look_at(const struct run *run, struct slot *s) {
    cb_task_info ti;
    long r = read_stat(s, &ti);
    if (r == 0) s->start = ti.start;  // I14: who this slot is, for a later identity check
    if (r == -ENOENT || (r == 0 && ti.state == 'X')) return V_GONE;
    if (r < 0) return V_UNKNOWN;
    if (s->tid == run->pid && ti.state == 'Z') return V_ZOMBIE_MAIN;
    if (ti.flags & PF_IO_WORKER) return V_IO_WORKER;
    if (ti.flags & PF_USER_WORKER) return V_USER_WORKER;
    if ((ti.flags & PF_EXITING) || ti.state == 'Z') return V_EXITING;
    return V_THREAD;
}

// Settles a slot that will never answer: gone, or skipped (runs no application
// code), by a CAS from the state observed before /proc was read. Returns false
// when the slot must be signalled or waited for (or its thread got there first).
static bool settle(struct run *run, struct slot *s, uint64_t observed, enum verdict v) {
    if (v == V_THREAD) s->kind = K_THREAD;
    if (v == V_UNKNOWN || v == V_THREAD) return false;
    enum phase to = v == V_GONE ? P_GONE : P_SKIPPED;
    int32_t reason = v == V_GONE ? 0
                   : v == V_ZOMBIE_MAIN ? CB_REASON_ZOMBIE_MAIN
                   : v == V_IO_WORKER ? CB_REASON_IO_WORKER
                   : v == V_USER_WORKER ? CB_REASON_USER_WORKER : CB_REASON_EXITING;
    if (!transition(s, observed, run->gen, to, reason)) return false;  // I5: triage only through a CAS
    if (phase_of(observed, run->gen) == P_SIGNALLED) run->resolved++;
    s->kind = v == V_ZOMBIE_MAIN ? K_ZOMBIE_MAIN : v == V_IO_WORKER || v == V_USER_WORKER ? K_KERNEL_WORKER : K_THREAD;
    if (s->kind == K_KERNEL_WORKER) keep_stat(s);
    if (to == P_SKIPPED) {
        run->skipped_present++;
        if (v != V_ZOMBIE_MAIN) run->vanishing++;  // it may exit at any moment
    }
    return true;
}

// The boot-time clock in the ticks of /proc's starttime (CLOCK_BOOTTIME, as starttime is).
static uint64_t boot_tick(void) {
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)(((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec) / cb_g.tick_ns);
}

// The last pid the namespace handed out, or -1 when unknown.
static long last_pid(void) {
    return cb_g.last_pid_fd < 0 ? -1 : cb_proc_read_number(cb_g.last_pid_fd);
}

// Queues the broadcast signal for slot `i`, carrying the generation's token.
static long send(struct run *run, struct slot *s, uint32_t i) {
    s->sent_tick = boot_tick();  // I14: the thread that answers existed by then
    s->sent_last_pid = (int32_t)run->pass_pid;  // I14: ... and held the tid; read before this send
    run->si.si_value.sival_ptr = (void *)(uintptr_t)(cb_token_of(run->gen) << IDX_BITS | i);
    return cb_sys4(SYS_rt_tgsigqueueinfo, run->pid, s->tid, run->si.si_signo, &run->si);
}

// Signals every slot that has not been signalled in this generation. Nobody
// else changes a slot that has no signal queued, but the moves still go through
// the CAS, to keep one rule.
static void send_pass(struct run *run) {
    uint32_t count = atomic_load(&cb_g.count), looked = 0;  // own
    if (run->relaxed) run->pass_pid = last_pid();  // I14: before this pass's signals
    for (uint32_t i = 0; i < count; i++) {
        struct slot *s = &cb_g.slots[i];
        uint64_t st = atomic_load(&s->state);  // acquire: pairs with the handler's claim CAS
        enum phase ph = phase_of(st, run->gen);
        if (ph != P_NONE && ph != P_UNSENT) continue;
        // I13: past the deadline the rest stay unsent; abandon() names them.
        if (++looked % CLOCK_CHECK_EVERY == 0 && cb_now_ns() >= run->deadline) return;
        if (ph == P_UNSENT) run->unsent--;
        if (s->tid == run->self) { transition(s, st, run->gen, P_SELF, 0); continue; }
        if (s->kind == K_ZOMBIE_MAIN && settle(run, s, st, V_ZOMBIE_MAIN)) continue;
        // A tid may be reused: look at a remembered kernel worker again (rare and cheap).
        if (s->kind == K_KERNEL_WORKER && settle(run, s, st, look_at(run, s))) continue;
        if (!transition(s, st, run->gen, P_SIGNALLED, 0)) continue;
        uint64_t sent = mkstate(run->gen, P_SIGNALLED);
        long r = send(run, s, i);
        if (r == 0) run->signalled++;
        else if (r == -ESRCH) transition(s, sent, run->gen, P_GONE, 0);
        else if (r == -EAGAIN) { transition(s, sent, run->gen, P_UNSENT, CB_REASON_QUEUE_FULL); run->unsent++; }
        else { s->ret = r; transition(s, sent, run->gen, P_ABANDONED, CB_REASON_SEND_FAILED); run->refused++; }
    }
}

// Looks at the signalled threads that have not arrived: the gone, the exiting,
// the zombie main thread and io_uring workers will never answer.
static void triage(struct run *run) {
    // Someone may have replaced our handler mid-run (a raw rt_sigaction): the
    // deliveries it swallowed are lost, so reinstall and signal the stragglers
    // again. A second delivery is harmless: only one can win the slot's CAS.
    if (cb_ensure_handler(run->si.si_signo) == 1) run->resend = true;
    bool resend = run->resend;
    run->resend = false;
    uint32_t count = atomic_load(&cb_g.count);  // own
    uint64_t signalled = mkstate(run->gen, P_SIGNALLED);
    bury_dead(run, run->gen, run->deadline, false);  // I12: relaxed, a thread that died at its step never counts in
    for (uint32_t i = 0, looked = 0; i < count; i++) {
        struct slot *s = &cb_g.slots[i];
        if (atomic_load(&s->state) != signalled) continue;  // acquire: pairs with the handler's claim CAS
        if (++looked % CLOCK_CHECK_EVERY == 0 && cb_now_ns() >= run->deadline) return;  // I13
        if (resend) {
            long sent = send(run, s, i);
            if (sent == -EAGAIN) run->resend = true;
            if (sent == -ESRCH) { settle(run, s, signalled, V_GONE); continue; }
        }
        settle(run, s, signalled, look_at(run, s));
    }
}

// Waits until every signalled thread arrived or was resolved by triage.
// Triage runs only when a whole slice passed without a single arrival.
static long wait_arrivals(struct run *run) {
    uint32_t last = UINT32_MAX, triages = 0;
    for (;;) {
        // A strict thread that died inside had counted in (handler.c); a relaxed one had not.
        uint32_t target = run->signalled - run->resolved - (run->relaxed ? run->died : 0);
        atomic_store(&cb_g.arrive_target, target);  // release: read by count_in; decides only who wakes the caller
        uint32_t word = atomic_load(&cb_g.arrived), a = counter_value(word, run->gen);  // a count: publishes nothing (I10)
        if (a >= target) return 0;
        int64_t now = cb_now_ns();
        if (now >= run->deadline) return -ETIMEDOUT;  // I1
        if (a == last) {
            triage(run);
            triages += triages < ARRIVAL_SLICE_DOUBLINGS;
            last = UINT32_MAX;
            continue;
        }
        last = a;
        int64_t slice = min64(ARRIVAL_SLICE_NS, ARRIVAL_SLICE_MIN_NS + (int64_t)(target - a - 1) * ARRIVAL_SLICE_PER_THREAD_NS);
        slice = min64(slice << triages, ARRIVAL_SLICE_MAX_NS);
        cb_futex_wait(&cb_g.arrived, word, min64(run->deadline, now + slice));  // I1
    }
}

// Our tid of the task /proc lists as `name` (they differ when /proc is of an ancestor PID
// namespace, see cb_setup): 0 when the task is gone, or -errno.
static long tid_of(int32_t name) {
    if (!cb_g.translate) return name;
    long tid = cb_proc_own_tid(cb_g.task_fd, name);
    return tid == -ENOENT || tid == -ESRCH ? 0 : tid;
}

static void note_seen(int32_t name, void *ctx) {
    struct run *run = ctx;
    long idx = cb_slot_find(name);
    if (idx < 0) {
        long tid = tid_of(name);
        if (tid == 0) return;  // gone since it was listed: it is not in the count either
        idx = tid < 0 ? tid : cb_slot_append(name, (int32_t)tid);  // I15
        if (idx >= 0) run->progress++;
        if (idx >= 0 && tid == run->pid) keep_stat(&cb_g.slots[idx]);  // may become the zombie main thread
    }
    if (idx < 0) run->error = run->error ? run->error : idx;
    else cb_g.slots[idx].seen = cb_g.scan_no;
}

// Lists /proc/self/task again: new tids get slots. A known tid the listing left
// out is believed gone only when tgkill says so (I4): the listing can skip a
// live thread.
static long rescan(struct run *run) {
    cb_g.scan_no++;
    // A listing is finished even past the deadline (~1 us per task): a thread must be
    // listed to be named. stop_world starts none after the deadline (I1, I13).
    long r = cb_proc_scan(cb_g.task_fd, cb_g.dents, sizeof cb_g.dents, note_seen, run);
    if (r < 0) return r;
    if (run->error) return run->error;
    uint32_t count = atomic_load(&cb_g.count);  // own
    for (uint32_t i = 0; i < count; i++) {
        struct slot *s = &cb_g.slots[i];
        if (s->seen == cb_g.scan_no) continue;
        uint64_t st = atomic_load(&s->state);  // acquire: pairs with the handler's claim CAS and finish()
        enum phase ph = phase_of(st, run->gen);
        if (ph == P_ARRIVED) {  // a held thread that died (I12)
            if (bury(run, s, run->gen, false)) run->progress++;
            continue;
        }
        if (ph != P_NONE && ph != P_UNSENT && ph != P_SKIPPED) continue;
        if (exists(run, s->tid)) continue;  // I4
        if (!transition(s, st, run->gen, P_GONE, 0)) continue;
        run->progress++;
        if (ph == P_UNSENT) run->unsent--;
        if (ph == P_SKIPPED) {
            run->skipped_present--;
            if (s->reason != CB_REASON_ZOMBIE_MAIN) run->vanishing--;
        }
    }
    return 0;
}

// Whether `tid` may have been handed out since the namespace's last pid was `from`
// (it is `to` now): pids are handed out cyclically, so only those in (from, to] are
// new (I14: assumes fewer than pid_max are handed out during one broadcast).
static bool maybe_new(long from, int32_t tid, long to) {
    if (from < 0 || to < 0) return true;
    return from <= to ? tid > from && tid <= to : tid > from || tid <= to;
}

enum identity { SAME, GONE, REBORN };

// I14: whether the task now at the slot's tid is the one the slot stands for. Its
// starttime is fixed for life: equal to the one remembered, it is the same task; if
// none is remembered, a task that started in an earlier clock tick than the slot was
// signalled held the tid then, so it is the one that answered. Otherwise (a later tick,
// or the same tick: undecidable) it may be a newborn that took a departed thread's tid.
static enum identity identify(struct slot *s, uint64_t *start) {
    cb_task_info ti;
    long r = read_stat(s, &ti);
    if (r == -ENOENT || (r == 0 && ti.state == 'X')) return GONE;
    if (r < 0) return cb_sys3(SYS_tgkill, cb_g.pid, s->tid, 0) == -ESRCH ? GONE : REBORN;  // unreadable: assume the worst
    *start = ti.start;
    if (s->start) return ti.start == s->start ? SAME : REBORN;
    return ti.start < s->sent_tick ? SAME : REBORN;
}

// A slot whose tid now belongs to another task: the one it stood for departed (or
// left the skipped set), and the newcomer is signalled like any new thread (relaxed:
// it may run the call twice if it was the same thread after all; relaxed allows it).
static void reborn(struct run *run, struct slot *s, uint64_t observed, enum phase ph, uint64_t start) {
    if (!transition(s, observed, run->gen, P_UNSENT, 0)) return;
    long tid = tid_of(s->name);  // the newcomer's own tid, if /proc names it otherwise
    if (tid > 0) s->tid = (int32_t)tid;
    s->start = start;
    s->kind = K_THREAD;
    run->unsent++;
    run->progress++;
    if (ph == P_DONE) run->departed++;
    else run->skipped_present--, run->vanishing--;
}

// True when the thread count proves that every task is known (I4). Every task
// counted as present must still exist after the count was read, and be the same
// task (I14): the held threads and the caller are; a skipped task that may exit,
// and (relaxed) a thread that ran the call and went on, are checked.
static long proven_complete(struct run *run) {
    long t = cb_proc_thread_count(cb_g.task_fd);
    if (t < 0) return t;
    long to = run->relaxed ? last_pid() : -1;
    if (run->vanishing || run->relaxed) {
        uint32_t count = atomic_load(&cb_g.count);  // own
        for (uint32_t i = 0; i < count; i++) {
            struct slot *s = &cb_g.slots[i];
            uint64_t st = atomic_load(&s->state);  // acquire: pairs with finish() (DONE) and the claim CAS
            enum phase ph = phase_of(st, run->gen);
            bool vanishing = ph == P_SKIPPED && s->reason != CB_REASON_ZOMBIE_MAIN;
            if (!vanishing && ph != P_DONE) continue;
            if (i % CLOCK_CHECK_EVERY == 0 && cb_now_ns() >= run->deadline) return 0;  // I13: not proven
            // A skipped task is always identified (few, and their tids are old); a thread that
            // ran the call only if its tid may have been handed out again since it was
            // signalled: the thread that answered held it then, after the pass read the last
            // pid, so a later owner's tid lies in (that read, to]. A thread born during the
            // broadcast and signalled in a later pass is not at risk for its birth.
            bool at_risk = vanishing || maybe_new(s->sent_last_pid, s->tid, to);
            uint64_t start = 0;
            enum identity id = at_risk ? identify(s, &start) : exists(run, s->tid) ? SAME : GONE;  // I4, I14
            if (id == SAME) continue;
            if (id == REBORN) { reborn(run, s, st, ph, start); continue; }
            if (!transition(s, st, run->gen, vanishing ? P_GONE : P_DEPARTED, s->reason)) continue;
            run->progress++;
            if (ph == P_DONE) run->departed++;
            else run->skipped_present--, run->vanishing--;
        }
    }
    uint32_t present = run->signalled - run->resolved - run->departed - run->died;
    return t == (long)(1 + present + run->skipped_present);  // I4
}

enum { STOPPED = 0, UNREACHABLE = 1 };

// Steps 1 and 2: returns STOPPED, UNREACHABLE, or -errno for a setup failure.
static long stop_world(struct run *run) {
    int64_t pause = RECOUNT_PAUSE_NS;
    // More threads than the registry knows: some were born since it was last proven (every
    // thread, in the first broadcast). Listed before the first signal, so that one send pass
    // and one wait reach them instead of two. Fewer is left to the send pass (a departed
    // thread says ESRCH), which costs no listing. Discovery only: nothing is proven by this
    // count (a birth and a death cancel out); the proof after the arrivals is unchanged (I4).
    long count = cb_proc_thread_count(cb_g.task_fd);
    if (count < 0) return count;
    if (count > (long)atomic_load(&cb_g.count) && cb_now_ns() < run->deadline) {  // own; I13: no listing starts after it
        long r = rescan(run);
        if (r < 0) return r;
    }
    for (;;) {
        run->rounds++;
        send_pass(run);
        if (run->refused) return UNREACHABLE;
        long r = wait_arrivals(run);
        if (r == -ETIMEDOUT) return UNREACHABLE;
        int64_t now = cb_now_ns();
        if (now >= run->deadline) return UNREACHABLE;  // I1
        if (run->unsent) {  // the queue was full: arrivals free entries; back off a little
            cb_futex_wait(&cb_g.arrived, atomic_load(&cb_g.arrived), min64(run->deadline, now + QUEUE_FULL_PAUSE_NS));  // a count: publishes nothing
            continue;
        }
        uint32_t progress = run->progress;
        r = proven_complete(run);
        if (r < 0) return r;
        if (r == 1) return STOPPED;
        if (cb_now_ns() >= run->deadline) return UNREACHABLE;  // I13: no listing starts after it
        r = rescan(run);
        if (r < 0) return r;
        if (run->progress != progress) { pause = RECOUNT_PAUSE_NS; continue; }
        // The count disagrees and nothing new turned up (a thread being born or
        // leaving, not yet in the listing): give it a moment rather than spin.
        cb_futex_wait(&cb_g.arrived, atomic_load(&cb_g.arrived), min64(run->deadline, cb_now_ns() + pause));  // I1; a count: publishes nothing
        pause = min64(pause * 2, RECOUNT_PAUSE_MAX_NS);
    }
}

// Gives up on every thread that has not arrived; after this no arrival can happen.
// A deadline that passed before the thread count was proven may leave threads born
// since the last listing unknown: one more listing (the I13 exception) makes them
// known, so that they are named as not signalled rather than left out.
static void abandon(struct run *run, long why) {
    if (why == UNREACHABLE) rescan(run);
    uint32_t count = atomic_load(&cb_g.count);  // own
    uint64_t signalled = mkstate(run->gen, P_SIGNALLED), unsent = mkstate(run->gen, P_UNSENT);
    for (uint32_t i = 0; i < count; i++) {
        struct slot *s = &cb_g.slots[i];
        if (transition(s, signalled, run->gen, P_ABANDONED, CB_REASON_NO_RESPONSE)) run->resolved++;  // I2, I5
        else if (transition(s, unsent, run->gen, P_ABANDONED, CB_REASON_QUEUE_FULL)) continue;
        else {
            // Listed, but the deadline passed before its signal was sent (a scan found
            // thousands of new threads late in the deadline): named, never left out.
            uint64_t st = atomic_load(&s->state);  // acquire: pairs with the handler's claim CAS
            if (phase_of(st, run->gen) == P_NONE && s->tid != run->self)
                transition(s, st, run->gen, P_ABANDONED, CB_REASON_NOT_SIGNALLED);
        }
    }
}

// Waits until `target` held threads of this generation have finished (run the call or
// left) or died inside (strict: a held thread counted into `arrived`, never into `finished`).
static bool wait_finished(struct run *run, uint32_t target, int64_t deadline) {
    int64_t slice = ARRIVAL_SLICE_NS;
    for (;;) {
        uint32_t word = atomic_load(&cb_g.finished);  // a count: publishes nothing (I10)
        if (counter_value(word, run->gen) + run->died >= target) return true;
        int64_t now = cb_now_ns();
        if (now >= deadline) return false;  // I1
        if (cb_futex_wait(&cb_g.finished, word, min64(deadline, now + slice)) == -ETIMEDOUT) {
            bury_dead(run, run->gen, deadline, false);  // I12
            slice = min64(slice * 2, ARRIVAL_SLICE_MAX_NS);
        }
    }
}

// A handler counts itself in before it stores its final state (I10), so a complete
// count can run a moment ahead of the states: waits (to `deadline`) until no slot of
// this generation is claimed by a live thread. Usually it finds none at once.
static void await_final_states(struct run *run, int64_t deadline) {
    while (cb_now_ns() < deadline && bury_dead(run, run->gen, deadline, false)) cb_sys0(SYS_sched_yield);  // I1, I13
}

// Step 3: publishes RUN or ABORT to the held threads and waits until each has
// run the call or left. Returns false when the deadline passed first.
static bool release(struct run *run, uint32_t op, int64_t deadline) {
    uint32_t held = counter_value(atomic_load(&cb_g.arrived), run->gen);  // a count: publishes nothing
    atomic_store(&cb_g.finish_target, held);  // release: read by count_in; decides only who wakes the caller
    atomic_store(&cb_g.cmd, mkcmd(run->gen, op));  // release: publishes limit, expected[]; pairs with participate's cmd loads
    // I1: wake even when no thread has counted itself in yet. A thread that claimed its
    // slot but had not counted in when `held` was read may already sleep on WAIT; without
    // this wake it would sleep until its hold deadline (found by the model checker).
    cb_futex_wake(&cb_g.cmd, INT32_MAX);
    return wait_finished(run, held, deadline);
}

// Step 0: waits until no handler of the previous generation is still inside
// (I8, I10), or proven dead there (I12). Only a broadcast that ended with a claimed,
// unfinished slot leaves one, and so does a caller that died.
static bool drain(int64_t deadline) {
    if (!maybe_late) return true;
    // A late handler's thread that died may have left its tid to a newborn by now (ESRCH
    // never comes): identified by starttime, on the first pass and every DRAIN_IDENTIFY_EVERY.
    for (uint32_t pass = 0; bury_dead(NULL, cb_g.gen, deadline, pass % DRAIN_IDENTIFY_EVERY == 0); pass++) {
        int64_t now = cb_now_ns();
        if (now >= deadline) return false;  // I1
        cb_futex_wait(&cb_g.finished, atomic_load(&cb_g.finished), min64(deadline, now + DRAIN_SLICE_NS));  // a count: publishes nothing
    }
    maybe_late = false;
    return true;
}

// The lock was taken over from a caller that died inside its broadcast (I11). Its
// generation cb_g.gen may have threads signalled, held, or running the program: no new
// claim (live_gen 0, and every unclaimed slot abandoned by CAS), the held ones leave
// (ABORT), the drain waits for those still inside, then the registry is rebuilt, as
// the dead caller may have died halfway through changing it.
static long recover(int64_t deadline) {
    uint64_t gen = cb_g.gen;
    atomic_store(&cb_g.live_gen, 0);  // release: pairs with cb_on_signal's load (no new claim)
    uint32_t count = atomic_load(&cb_g.count);  // own
    for (uint32_t i = 0; i < count; i++) {
        uint64_t st = mkstate(gen, P_SIGNALLED);
        atomic_compare_exchange_strong(&cb_g.slots[i].state, &st, mkstate(gen, P_ABANDONED));  // I5; acquire+release: pairs with the claim CAS
    }
    uint32_t cmd = atomic_load(&cb_g.cmd);  // own
    if (cmd == mkcmd(gen, CMD_WAIT)) atomic_compare_exchange_strong(&cb_g.cmd, &cmd, mkcmd(gen, CMD_ABORT));  // I2; release: pairs with participate's cmd loads
    cb_futex_wake(&cb_g.cmd, INT32_MAX);
    maybe_late = true;
    if (!drain(deadline)) return -EBUSY;
    cb_g.recover = false;
    return cb_registry_reset();
}

// Whether the caller's result `r` of step `s` stops the program.
static bool step_failed(const cb_step *s, long r) {
    switch (s->expect) {
    case CB_EXPECT_VALUE: return r != s->value;
    case CB_EXPECT_PROBE: return false;
    default: return r < 0 && r > -4096;
    }
}

// The caller runs `steps`, stopping at a failed step, and fills `expected` with
// what every other thread must get at each step (I9). Returns how many steps
// every thread runs.
static uint32_t run_caller(const cb_step *steps, uint32_t count, long *expected, cb_report *out) {
    uint32_t i = 0;
    out->failed_step = count;
    for (; i < count; i++) {
        const cb_step *s = &steps[i];
        long r = run_step(s);
        out->result = out->results[i] = r;
        expected[i] = s->expect == CB_EXPECT_VALUE ? s->value : r;
        if (step_failed(s, r)) {
            out->failed_step = i;
            break;
        }
    }
    out->steps_applied = i;
    return i;
}

static int32_t outcome(uint32_t limit, uint32_t count) {
    return limit == 0 ? CB_CALL_FAILED : limit < count ? CB_STEP_FAILED : CB_OK;
}

// Relaxed (glibc's semantics): the caller runs first, RUN is published before
// any signal, and each thread runs the steps as soon as its handler runs.
static int32_t run_relaxed(struct run *run, cb_report *out) {
    uint32_t limit = cb_g.limit = run_caller(cb_g.steps, cb_g.step_count, cb_g.expected, out);
    if (limit == 0) return CB_CALL_FAILED;
    out->changed = 1;
    atomic_store(&cb_g.cmd, mkcmd(run->gen, CMD_RUN));  // I9: the limit is fixed before any signal; release: publishes limit, expected[]; read after live_gen
    atomic_store(&cb_g.live_gen, run->gen);  // release: publishes program, cmd, counters; pairs with cb_on_signal
    long r = stop_world(run);
    if (r != STOPPED) abandon(run, r);
    atomic_store(&cb_g.live_gen, 0);  // release: pairs with cb_on_signal's load (no new claim)
    await_final_states(run, run->deadline);  // I10
    if (r == STOPPED) return outcome(limit, cb_g.step_count);
    out->setup_errno = r < 0 ? (int32_t)-r : 0;
    return r < 0 ? CB_SETUP_FAILED : CB_UNREACHABLE;
}

// Strict: stop every thread, prove none is missing, then decide.
static int32_t run_strict(struct run *run, cb_report *out) {
    atomic_store(&cb_g.hold_until, add_sat(run->deadline, HOLD_GRACE_NS));  // I1; published by the release store of live_gen below
    atomic_store(&cb_g.caller, run->self);  // I11: held threads leave if it dies; published by the release store of live_gen below
    atomic_store(&cb_g.live_gen, run->gen);  // release: publishes program, hold_until, caller, counters, cmd; pairs with cb_on_signal
    long r = stop_world(run);
    if (r != STOPPED) {
        abandon(run, r);
        release(run, CMD_ABORT, add_sat(run->deadline, LEAVE_GRACE_NS));  // I2
        atomic_store(&cb_g.live_gen, 0);  // release: pairs with cb_on_signal's load (no new claim)
        out->setup_errno = r < 0 ? (int32_t)-r : 0;
        return r < 0 ? CB_SETUP_FAILED : CB_UNREACHABLE;
    }
    uint32_t limit = cb_g.limit = run_caller(cb_g.steps, cb_g.step_count, cb_g.expected, out);  // I2, I3: every thread is held
    bool nothing = limit == 0;
    bool complete = release(run, nothing ? CMD_ABORT : CMD_RUN, nothing ? add_sat(run->deadline, LEAVE_GRACE_NS) : run->deadline);  // I9
    atomic_store(&cb_g.live_gen, 0);  // release: pairs with cb_on_signal's load (no new claim)
    if (complete) await_final_states(run, run->deadline);  // I10
    if (nothing) return CB_CALL_FAILED;
    out->changed = 1;
    if (!complete) return CB_INCOMPLETE;
    return outcome(limit, cb_g.step_count);
}

static int32_t run_protocol(struct run *run, const cb_step *steps, uint32_t count, const cb_options *opts, cb_report *out) {
    memcpy(cb_g.steps, steps, count * sizeof *steps);  // after the drain: no handler reads it (I8)
    cb_g.step_count = count;
    cb_g.limit = 0;
    // I8: every word the handlers count into carries this generation (modulo 2^10 on the
    // counters, 2^30 on cmd; the drain made sure no older handler is inside, I10).
    atomic_store(&cb_g.cmd, mkcmd(run->gen, CMD_WAIT));  // published by the release store of live_gen
    atomic_store(&cb_g.arrived, counter_tag(run->gen));  // published by the release store of live_gen
    atomic_store(&cb_g.arrive_target, 0);  // published by the release store of live_gen
    atomic_store(&cb_g.finished, counter_tag(run->gen));  // published by the release store of live_gen
    atomic_store(&cb_g.finish_target, 0);  // published by the release store of live_gen
    atomic_fetch_add_explicit(&cb_stat_broadcasts, 1, memory_order_relaxed);  // stat: relaxed
    return opts->relaxed ? run_relaxed(run, out) : run_strict(run, out);
}

// The final look at the slots: a thread that stopped early, a thread that gave
// up, and whether a handler may still be inside when the next broadcast begins.
static void conclude(const struct run *run, cb_report *out) {
    uint32_t count = atomic_load(&cb_g.count);  // own
    bool counts = out->status == CB_OK || out->status == CB_STEP_FAILED || out->status == CB_INCOMPLETE;
    for (uint32_t i = 0; i < count; i++) {
        enum phase ph = phase_of(atomic_load(&cb_g.slots[i].state), run->gen);  // acquire: pairs with finish() (ret, stopped)
        if (ph == P_ARRIVED) maybe_late = true;
        if (!counts) continue;
        if (ph == P_GAVE_UP || ph == P_DIED) out->status = CB_INCOMPLETE;
        if ((ph == P_DONE || ph == P_DEPARTED) && cb_g.slots[i].stopped < cb_g.limit && out->status != CB_INCOMPLETE)
            out->status = CB_MISMATCH;
    }
}

static bool valid_steps(const cb_step *steps, uint32_t count) {
    if (count < 1 || count > CB_MAX_STEPS) return false;
    for (uint32_t i = 0; i < count; i++)
        if (steps[i].nr < 0 || steps[i].expect < CB_EXPECT_CALLER || steps[i].expect > CB_EXPECT_PROBE) return false;
    return true;
}

void cb_broadcast_steps(const cb_step *steps, uint32_t count, const cb_options *opts, cb_report *out) {
    int64_t t0 = cb_now_ns();
    memset(out, 0, offsetof(cb_report, results));  // `results` is filled as steps run

    if (opts->timeout_ns <= 0 || opts->signal < 33 || opts->signal > 64 || !valid_steps(steps, count)) {
        out->status = CB_INVALID;
        return;
    }
    // The caller is the only thread (unshare(CLONE_THREAD) succeeds only then, and a
    // vfork child or a thread that shares its signal handlers fails it): no other
    // thread exists to change or to appear before the steps have run (I4), so the
    // program is just run, at the cost of one extra system call.
    if (cb_sys1(SYS_unshare, CLONE_THREAD) == 0) {
        long expected[CB_MAX_STEPS];
        uint32_t limit = run_caller(steps, count, expected, out);
        out->status = outcome(limit, count);
        out->changed = limit > 0;
        out->threads = 1;
        out->elapsed_ns = cb_now_ns() - t0;
        return;
    }
    long r = cb_vfork_check();  // I7: before the lock, which is the parent's too
    if (r < 0) {
        out->status = CB_SETUP_FAILED;
        out->setup_errno = (int32_t)-r;
        return;
    }
    struct run run = {.deadline = add_sat(t0, opts->timeout_ns), .relaxed = opts->relaxed != 0, .pass_pid = -1};
    enum lock_outcome lock = cb_lock_acquire(run.deadline);
    if (lock == LOCK_BUSY || lock == LOCK_NESTED) {
        out->status = CB_BUSY;
        out->setup_errno = lock == LOCK_NESTED ? EDEADLK : 0;
        out->elapsed_ns = cb_now_ns() - t0;
        return;
    }
    if (lock == LOCK_TAKEN_OVER) cb_g.recover = true;  // I11: kept until the clean-up succeeds
    r = cb_setup();
    if (r == 0 && cb_g.recover) r = recover(run.deadline);  // I11
    if (r == 0) r = drain(run.deadline) ? 0 : -EBUSY;  // I8
    if (r == 0) r = cb_ensure_handler(opts->signal);
    if (r >= 0) r = cb_compact();
    if (r == SETUP_PROC_ELSEWHERE) {
        out->status = CB_PROC_ELSEWHERE;
    } else if (r < 0) {
        out->status = r == -EBUSY ? CB_BUSY : CB_SETUP_FAILED;
        out->setup_errno = (int32_t)-r;
    } else {
        run.gen = ++cb_g.gen;
        run.pid = cb_g.pid;
        run.self = (int32_t)cb_sys0(SYS_gettid);
        run.si = (siginfo_t){.si_signo = opts->signal, .si_code = SI_QUEUE};
        run.si.si_pid = run.pid;
        out->status = run_protocol(&run, steps, count, opts, out);
        out->rounds = run.rounds;
        conclude(&run, out);
        cb_build_report(run.gen, opts->signal, out);
    }
    cb_lock_release();
    out->elapsed_ns = cb_now_ns() - t0;
    if (out->status == CB_MISMATCH && opts->abort_on_mismatch) cb_abort_on_mismatch(out);
}

void cb_broadcast(long nr, const long args[6], const cb_options *opts, cb_report *out) {
    cb_step step = {.nr = nr, .expect = CB_EXPECT_CALLER};
    memcpy(step.args, args, sizeof step.args);
    cb_broadcast_steps(&step, 1, opts, out);
}
