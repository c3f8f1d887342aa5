// The signal handler: what a target thread runs when our signal reaches it.
// Only raw system calls, atomics and futexes (I6); never errno, never a lock.
// Synchronous signals (SIGSYS from a seccomp RET_TRAP, SIGSEGV, ...) are not blocked
// while it runs (signal.c): the application's own handler for them runs nested in ours.
#define _GNU_SOURCE
#include "engine.h"

CB_HIDDEN _Atomic uint64_t cb_stat_broadcasts, cb_stat_handler_runs, cb_stat_not_ours;


HANDLER_CODE uint64_t cb_token_of(uint64_t gen) {
    uint64_t t = (cb_g.secret ^ (gen * 0x9E3779B97F4A7C15ull)) >> IDX_BITS;
    return t ? t : 1;
}

// Hands a delivery that is not ours to the handler we displaced. SIG_DFL is
// dropped rather than run: its default action for a real-time signal would kill
// the process, and nobody asked for that when they installed nothing.
//
// A handler that displaced ours and chains back to it would bounce a foreign
// delivery between the two forever; `passing` (initial-exec TLS: no allocation,
// safe in a handler) stops the second pass. Our handler blocks every signal but
// the synchronous ones while it runs, and those never come here, so a nested pass
// can only be such a loop.
static __thread __attribute__((tls_model("initial-exec"))) int passing;

HANDLER_CODE static void pass_on(int sig, siginfo_t *si, void *uc) {
    atomic_fetch_add_explicit(&cb_stat_not_ours, 1, memory_order_relaxed);  // stat: relaxed
    // One load names a whole record (handler and flags written together before it was
    // published, never changed after): the pair cannot be torn by a concurrent chain_to.
    // Acquire: pairs with chain_to's release store of the index.
    uint32_t current = atomic_load_explicit(&cb_chain_current[sig], memory_order_acquire);
    if (current == 0) return;
    void *h = cb_chain_records[current - 1].handler;
    unsigned long flags = cb_chain_records[current - 1].flags;
    if (h == (void *)SIG_DFL || h == (void *)SIG_IGN || passing) return;
    passing = 1;
    if (flags & SA_SIGINFO) ((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
    else ((void (*)(int))h)(sig);
    passing = 0;
}

// Counts this thread into generation `gen`'s counter. Returns true when it is the last
// one the caller waits for: the caller is woken only after the slot's final state is
// stored (finish()). A counter already retagged for a later generation cannot be met
// here: the drain keeps a later generation from starting while this slot is ARRIVED (I10).
HANDLER_CODE static bool count_in(_Atomic uint32_t *counter, _Atomic uint32_t *target, uint64_t gen) {
    uint32_t tag = counter_tag(gen), word = atomic_load(counter), n;  // acquire: pairs with run_protocol's retagging store (read after live_gen)
    do {
        if ((word & ~COUNT_MASK) != tag) return false;
        n = (word & COUNT_MASK) + 1;
    } while (!atomic_compare_exchange_weak(counter, &word, tag | n));  // counts only, publishes nothing (I10)
    return n == atomic_load(target);  // acquire: pairs with the caller's target store; decides only who wakes it
}

// A held thread looks at its caller this often (a wake-up each time, only while held).
#define HOLD_LOOK_NS 50000000LL

// Monotonic nanoseconds with the raw system call (no vDSO, nothing a sanitizer intercepts).
HANDLER_CODE static int64_t monotonic_ns(void) {
    struct timespec ts;
    cb_sys2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// Stores the slot's final state: the last write of this handler to the engine's memory
// (I10). After it the next generation may begin and rewrite everything; the wake that
// may follow only names the counter's address (a stray wake is harmless: every futex
// waiter re-checks its condition).
HANDLER_CODE static void finish(struct slot *s, uint64_t gen, enum phase final, _Atomic uint32_t *counter, bool last) {
    atomic_store(&s->state, mkstate(gen, final));  // I10; release: publishes ret/stopped; pairs with the caller's state loads
    if (last) cb_futex_wake(counter, 1);
}

// Runs the program's first `limit` steps, stopping at the first result that is
// not the expected one, and records where it stopped (published by finish()).
HANDLER_CODE static void run_program(struct slot *s) {
    uint32_t limit = cb_g.limit, i = 0;
    long r = 0;
    for (; i < limit; i++) {
        r = run_step(&cb_g.steps[i]);
        if (r != cb_g.expected[i]) break;
    }
    s->ret = r;
    s->stopped = i;
    atomic_fetch_add_explicit(&cb_stat_handler_runs, 1, memory_order_relaxed);  // stat: relaxed
}

// Claims the slot, then: relaxed (RUN was published before the signal) runs the
// call at once; strict is held until the caller decides, then runs the call
// (RUN) or leaves (ABORT).
//
// The program, `cmd` and the counters are read and written only while the slot is
// ARRIVED (I10): the next broadcast cannot begin while a slot is ARRIVED (its drain
// waits for every claimed slot to reach a final state, or proves its thread dead), so
// nobody rewrites them under the handler and no later generation shares their tags.
// Reading the program in place, rather than copying 64 steps, keeps the handler's stack
// small enough for a minimal alternate signal stack.
HANDLER_CODE static void participate(struct slot *s, uint64_t gen) {
    uint64_t expected = mkstate(gen, P_SIGNALLED);
    // I5: exactly one of this handler and the abandoning caller wins the slot.
    if (!atomic_compare_exchange_strong(&s->state, &expected, mkstate(gen, P_ARRIVED))) return;  // acquire+release: pairs with send_pass's SIGNALLED CAS and the caller's abandon CAS (I5)

    uint32_t run = mkcmd(gen, CMD_RUN), wait = mkcmd(gen, CMD_WAIT), c;
    if (atomic_load(&cb_g.cmd) == run) {  // acquire: pairs with run_relaxed's store of RUN (limit, expected[])
        run_program(s);
        bool last = count_in(&cb_g.arrived, &cb_g.arrive_target, gen);
        finish(s, gen, P_DONE, &cb_g.arrived, last);  // I10: after the count
        return;
    }
    // Strict: no system call between the claim and this count, so a held thread that
    // dies later has always counted itself in (the caller relies on it, see P_DIED).
    if (count_in(&cb_g.arrived, &cb_g.arrive_target, gen)) cb_futex_wake(&cb_g.arrived, 1);
    // I1: the caller decides before its deadline; a caller frozen past it (stopped
    // by a tracer, stuck in its own call) must not hold this thread forever, and a
    // caller that died (I11) must not hold it until then: every HOLD_LOOK_NS the held
    // thread asks whether the caller still exists.
    int64_t limit = atomic_load(&cb_g.hold_until);  // acquire: published by the release store of live_gen
    while ((c = atomic_load(&cb_g.cmd)) == wait) {  // acquire: pairs with release()'s store of RUN/ABORT (limit, expected[])
        int64_t now = monotonic_ns(), until = limit - now > HOLD_LOOK_NS ? now + HOLD_LOOK_NS : limit;
        if (cb_futex_wait(&cb_g.cmd, wait, until) != -ETIMEDOUT || atomic_load(&cb_g.cmd) != wait) continue;  // acquire: as above
        if (until == limit || cb_sys3(SYS_tgkill, cb_g.pid, atomic_load(&cb_g.caller), 0) == -ESRCH) break;  // acquire: published by the release store of live_gen
    }
    if (c == run) run_program(s);
    bool last = count_in(&cb_g.finished, &cb_g.finish_target, gen);
    finish(s, gen, c == run ? P_DONE : c == wait ? P_GAVE_UP : P_LEFT, &cb_g.finished, last);  // I10
}

HANDLER_CODE void cb_on_signal(int sig, siginfo_t *si, void *uc) {
    uint64_t gen = atomic_load(&cb_g.live_gen);  // acquire: pairs with run_strict/run_relaxed's release store (program, counters, cmd)
    // I5: only SI_QUEUE from our pid carrying the live generation's token.
    if (gen && si->si_code == SI_QUEUE && si->si_pid == cb_g.pid) {
        uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
        uint32_t idx = (uint32_t)(v & ((1u << IDX_BITS) - 1));
        if ((v >> IDX_BITS) == cb_token_of(gen) && idx < atomic_load(&cb_g.count)) {  // acquire: pairs with cb_slot_append's release store (the slot)
            participate(&cb_g.slots[idx], gen);
            return;
        }
    }
    pass_on(sig, si, uc);
}
