// The engine's shared state: what the caller's protocol (protocol.c), the
// signal handler (handler.c), the registry (registry.c) and the report
// (report.c) all read. Internal to CBroadcast.
#ifndef CBROADCAST_ENGINE_H
#define CBROADCAST_ENGINE_H

#include "CBroadcast.h"
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/types.h>

// ---- memory ordering ------------------------------------------------------------
//
// Every atomic here is sequentially consistent (the default of atomic_load/store/CAS)
// unless its declaration says otherwise. A seq_cst store is a release and a seq_cst load
// an acquire, so each pair named below orders the plain writes before the store before the
// plain reads after the load, on arm64 as on x86_64. Each atomic's declaration names what
// its stores publish and the loads they pair with; each access in the .c files carries a
// tag: "release:" or "acquire:" naming its pair; "published by" the store that orders it;
// "own" (the caller reads back what only it writes, under the lock: no pair needed); "a
// count" (publishes nothing, I10); "stat" (relaxed); "no handler inside" (the registry
// changes only after the drain); "this process only" / "fork child" (orders nothing).

// ---- slots ------------------------------------------------------------------

// Where a known task stands in the generation its slot's state names.
enum phase {
    P_NONE,       // not yet signalled in this generation
    P_UNSENT,     // the send failed with EAGAIN: try again
    P_SIGNALLED,  // sent, not yet arrived
    P_ARRIVED,    // claimed by its handler, which is still inside (held, or running the call)
    P_DONE,       // ran the call; `ret` is valid
    P_DEPARTED,   // relaxed: ran the call, then exited (tgkill said ESRCH)
    P_LEFT,       // released by ABORT without running the call
    P_GAVE_UP,    // waited past the hold deadline for a decision and left without running the call
    P_ABANDONED,  // unreachable: the caller gave up on it
    P_GONE,       // no longer exists
    P_SKIPPED,    // runs no application code (`reason`)
    P_SELF,       // the caller
    P_DIED,       // was ARRIVED, and its thread is proven gone: it died inside the handler
};

enum kind { K_THREAD, K_ZOMBIE_MAIN, K_KERNEL_WORKER };  // io_uring or other user worker

struct slot {
    // generation << 8 | phase. Release by the handler's claim CAS (SIGNALLED -> ARRIVED)
    // and its final store in finish(), which publishes ret and stopped; acquire by the
    // caller's loads and CASes (triage, conclude, the report) before it reads them. Every
    // caller transition is a CAS on the same word, so exactly one side wins a move (I5).
    _Atomic uint64_t state;
    int32_t tid;             // in our PID namespace: what tgkill and gettid() use
    int32_t name;            // in /proc's PID namespace: the task's directory below task_fd
                             // (equal to tid unless /proc belongs to an ancestor namespace)
    int32_t kind;            // enum kind, remembered between broadcasts
    int32_t stat_fd;         // the main thread and kernel workers: their stat file, kept open
                             // (readable under a Landlock domain that forbids opening it); -1 none
    int32_t reason;          // cb_reason for UNSENT, SKIPPED, ABANDONED
    uint32_t seen;           // number of the last scan that listed the tid
    uint32_t stopped;        // DONE: the step it stopped at (the program's limit: it ran them all)
    int32_t sent_last_pid;   // relaxed: the namespace's last pid, read before it was signalled; -1 unknown (I14)
    uint64_t sent_tick;      // boot-time clock tick when it was last signalled (identity, I14)
    uint64_t start;          // starttime of the task this slot was last proven to be; 0 unknown (I14)
    long ret;                // DONE: the result of its last step run (raw, -errno)
};

static inline uint64_t mkstate(uint64_t gen, enum phase p) { return gen << 8 | p; }
static inline enum phase phase_of(uint64_t st, uint64_t gen) {
    return (st >> 8) == gen ? (enum phase)(st & 0xff) : P_NONE;
}

// si_value carries the slot index in its low bits and the generation's token above.
#define IDX_BITS 22
#define MAX_SLOTS ((1u << IDX_BITS) - 1)
#define HASH_MAX (1u << (IDX_BITS + 1))

// ---- generation-tagged words ---------------------------------------------------

// `cmd`: generation modulo 2^30 << 2 | op.
enum { CMD_WAIT = 0, CMD_RUN = 1, CMD_ABORT = 2 };
static inline uint32_t mkcmd(uint64_t gen, uint32_t op) { return (uint32_t)(gen << 2) | op; }

// The arrival and finish counters carry their generation modulo 2^10 (the 10 bits above
// the 22-bit count), so that a handler of an earlier generation, finishing late, cannot
// count into a later one (it compares the tag and leaves the word alone); the drain
// keeps a handler 2^10 generations old from being inside at all (I10).
#define COUNT_BITS IDX_BITS
#define COUNT_MASK ((1u << COUNT_BITS) - 1)
static inline uint32_t counter_tag(uint64_t gen) { return (uint32_t)(gen << COUNT_BITS); }
static inline uint32_t counter_value(uint32_t word, uint64_t gen) {
    return (word & ~COUNT_MASK) == counter_tag(gen) ? word & COUNT_MASK : 0;
}

// ---- the program --------------------------------------------------------------------

HANDLER_CODE static inline long run_step(const cb_step *s) {
    return cb_sys6(s->nr, s->args[0], s->args[1], s->args[2], s->args[3], s->args[4], s->args[5]);
}

// ---- process state ----------------------------------------------------------------

struct engine {
    // 0 free, else owner tid << 2 | 1 (held) or 2 (held, waiters). Acquire: the taking
    // CAS (cb_lock_acquire); release: the exchange in cb_lock_release, which publishes
    // every plain write the owner made under the lock (registry, gen, maybe_late, recover).
    _Atomic uint32_t lock;
    bool recover;                // the lock was taken over from a dead owner: clean up first
    pid_t pid;                   // the process the fds and registry belong to
    int task_fd;                 // /proc/self/task
    bool translate;              // /proc is of an ancestor PID namespace: its names are not our tids
    int last_pid_fd;             // /proc/sys/kernel/ns_last_pid, or -1 (identity, I14)
    int64_t tick_ns;             // nanoseconds per clock tick of /proc's starttime
    uint64_t secret;
    uint64_t gen;                // last generation used
    // Generation in flight, 0 between broadcasts. Release: the caller's store in
    // run_strict/run_relaxed, which publishes the program, hold_until, caller, the
    // retagged counters and cmd; acquire: cb_on_signal's load, before it reads any of them.
    _Atomic uint64_t live_gen;

    // The live generation's program. Written only before live_gen is published
    // and after the drain (I8), so a handler that claimed its slot reads it whole.
    cb_step steps[CB_MAX_STEPS];
    uint32_t step_count;
    uint32_t limit;              // steps every thread runs; set before RUN is published
    long expected[CB_MAX_STEPS]; // what each step's result must be; set with `limit`
    // Release: the caller's store of RUN (release(), run_relaxed), which publishes limit
    // and expected[]; acquire: participate's loads that see RUN before run_program reads them.
    _Atomic uint32_t cmd;
    // Tagged counters (the tag is the generation modulo 2^10) and their targets. They
    // publish nothing (the caller reads results only after a slot's final state, I10): the
    // handler's CAS in count_in and the caller's loads are counts and wake-up hints. A
    // target is stored by the caller and loaded by count_in to decide who wakes it.
    _Atomic uint32_t arrived, arrive_target;
    _Atomic uint32_t finished, finish_target;
    // A held thread waits for the decision until then (monotonic ns), and leaves if
    // `caller` dies. Both stored before live_gen: published by its release store, read
    // by the handler after its acquire load of live_gen.
    _Atomic int64_t hold_until;
    _Atomic int32_t caller;

    struct slot *slots;          // reserved MAX_SLOTS, committed `capacity`
    // Release: cb_slot_append's store, which publishes the new slot (tid, name, zeroed
    // state); acquire: cb_on_signal's load that bounds the slot index. Shrunk (compact,
    // reset) only while no handler is inside.
    _Atomic uint32_t count;
    uint32_t capacity;
    uint32_t *hash;              // name -> index + 1, open addressing
    uint32_t hash_size, hash_committed;
    uint32_t scan_no;

    char dents[32768];           // getdents64 buffer
};

CB_HIDDEN extern struct engine cb_g;

// Statistics: relaxed increments and plain reads; nobody orders anything by them.
CB_HIDDEN extern _Atomic uint64_t cb_stat_broadcasts, cb_stat_handler_runs, cb_stat_not_ours;

// ---- across files ------------------------------------------------------------------

// handler.c
CB_HIDDEN uint64_t cb_token_of(uint64_t gen);
CB_HIDDEN void cb_on_signal(int sig, siginfo_t *si, void *uc);

// signal.c: installs cb_on_signal on `sig` unless it is there already.
// Returns 0 when ours was in place, 1 when it had to be installed, or -errno
// (-ENOSPC: more distinct handlers displaced ours than CB_CHAIN_RECORDS).

// A handler we displaced, as the kernel gave it: never changed once published (signal.c).
struct chained {
    void *handler;
    unsigned long flags;
};
#define CB_CHAIN_RECORDS 64
CB_HIDDEN extern struct chained cb_chain_records[CB_CHAIN_RECORDS];
// Per signal: 1 + the index of the record deliveries that are not ours go to; 0 none.
// Release: chain_to's store, which publishes the record; acquire: pass_on's load.
CB_HIDDEN extern _Atomic uint32_t cb_chain_current[65];
CB_HIDDEN long cb_ensure_handler(int sig);

// registry.c
enum lock_outcome { LOCK_TAKEN, LOCK_TAKEN_OVER, LOCK_BUSY, LOCK_NESTED };
CB_HIDDEN enum lock_outcome cb_lock_acquire(int64_t deadline);
CB_HIDDEN void cb_lock_release(void);
CB_HIDDEN long cb_vfork_check(void);
// cb_setup's refusal when /proc belongs to a PID namespace this process is not in (its
// threads cannot be listed there): reported as CB_PROC_ELSEWHERE, not as an errno.
#define SETUP_PROC_ELSEWHERE (-EXDEV)
CB_HIDDEN long cb_setup(void);
CB_HIDDEN long cb_slot_find(int32_t name);
CB_HIDDEN long cb_slot_append(int32_t name, int32_t tid);
CB_HIDDEN long cb_compact(void);
CB_HIDDEN long cb_registry_reset(void);

#endif
