// The signal handler: what a target thread runs when our signal reaches it.
// Only raw system calls, atomics and futexes (I6); never errno, never a lock.
#define _GNU_SOURCE
#include "engine.h"

CB_HIDDEN _Atomic uint64_t cb_stat_broadcasts, cb_stat_handler_runs, cb_stat_not_ours;

// The handlers we replaced, per signal, so that foreign deliveries reach them
// (signal.c fills them in).
CB_HIDDEN _Atomic(void *) cb_chained_handler[65];
CB_HIDDEN _Atomic unsigned long cb_chained_flags[65];

HANDLER_CODE uint64_t cb_token_of(uint64_t gen) {
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
    atomic_fetch_add_explicit(&cb_stat_not_ours, 1, memory_order_relaxed);
    void *h = atomic_load_explicit(&cb_chained_handler[sig], memory_order_acquire);
    unsigned long flags = atomic_load_explicit(&cb_chained_flags[sig], memory_order_relaxed);
    if (h == (void *)SIG_DFL || h == (void *)SIG_IGN || passing) return;
    passing = 1;
    if (flags & SA_SIGINFO) ((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
    else ((void (*)(int))h)(sig);
    passing = 0;
}

// Counts this thread into generation `gen`'s counter, waking the caller when it
// is the last. A counter already retagged for a later generation is left alone:
// this handler is late, and its count belongs to nobody any more (I8).
HANDLER_CODE static void count_in(_Atomic uint32_t *counter, _Atomic uint32_t *target, uint64_t gen) {
    uint32_t tag = counter_tag(gen), word = atomic_load(counter), n;
    do {
        if ((word & ~COUNT_MASK) != tag) return;
        n = (word & COUNT_MASK) + 1;
    } while (!atomic_compare_exchange_weak(counter, &word, tag | n));
    if (n == atomic_load(target)) cb_futex_wake(counter, 1);
}

// Runs the program's first `limit` steps, stopping at the first result that is
// not the expected one, and publishes where it stopped. The slot's final state
// is the last thing the drain of the next broadcast waits for; after it, only
// the tagged count is touched.
HANDLER_CODE static void run_program(struct slot *s, uint64_t gen) {
    uint32_t limit = g.limit, i = 0;
    long r = 0;
    for (; i < limit; i++) {
        r = run_step(&g.steps[i]);
        if (r != g.expected[i]) break;
    }
    s->ret = r;
    s->stopped = i;
    atomic_store(&s->state, mkstate(gen, P_DONE));
    atomic_fetch_add_explicit(&cb_stat_handler_runs, 1, memory_order_relaxed);
}

// Claims the slot, then: relaxed (RUN was published before the signal) runs the
// call at once; strict is held until the caller decides, then runs the call
// (RUN) or leaves (ABORT). A wake that lands after the caller moved on is
// harmless: every futex waiter re-checks its condition.
//
// The program is read only after the claim: while this handler holds a claimed
// slot (ARRIVED), the next broadcast cannot begin (its drain waits for every
// claimed slot to reach a final state), so nobody rewrites it under the handler.
// Reading it in place, rather than copying 64 steps, keeps the handler's stack
// small enough for a minimal alternate signal stack.
HANDLER_CODE static void participate(struct slot *s, uint64_t gen) {
    uint64_t expected = mkstate(gen, P_SIGNALLED);
    // I5: exactly one of this handler and the abandoning caller wins the slot.
    if (!atomic_compare_exchange_strong(&s->state, &expected, mkstate(gen, P_ARRIVED))) return;

    uint32_t run = mkcmd(gen, CMD_RUN), wait = mkcmd(gen, CMD_WAIT), c;
    if (atomic_load(&g.cmd) == run) {
        run_program(s, gen);
        count_in(&g.arrived, &g.arrive_target, gen);
        return;
    }
    count_in(&g.arrived, &g.arrive_target, gen);
    // I1: the caller decides before its deadline; a caller frozen past it (stopped
    // by a tracer, stuck in its own call) must not hold this thread forever.
    int64_t limit = atomic_load(&g.hold_until);
    while ((c = atomic_load(&g.cmd)) == wait) {
        if (cb_futex_wait(&g.cmd, wait, limit) == -ETIMEDOUT && atomic_load(&g.cmd) == wait) break;
    }
    if (c == run) run_program(s, gen);
    else atomic_store(&s->state, mkstate(gen, c == wait ? P_GAVE_UP : P_LEFT));
    count_in(&g.finished, &g.finish_target, gen);
}

HANDLER_CODE void cb_on_signal(int sig, siginfo_t *si, void *uc) {
    uint64_t gen = atomic_load(&g.live_gen);
    // I5: only SI_QUEUE from our pid carrying the live generation's token.
    if (gen && si->si_code == SI_QUEUE && si->si_pid == g.pid) {
        uint64_t v = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
        uint32_t idx = (uint32_t)(v & ((1u << IDX_BITS) - 1));
        if ((v >> IDX_BITS) == cb_token_of(gen) && idx < atomic_load(&g.count)) {
            participate(&g.slots[idx], gen);
            return;
        }
    }
    pass_on(sig, si, uc);
}
