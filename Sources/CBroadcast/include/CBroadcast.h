// CBroadcast: run one system call on every thread of the calling process.
// The protocol and its invariants are described at the top of protocol.c.
#ifndef CBROADCAST_H
#define CBROADCAST_H

#include <stdint.h>
#include "cb_linux_abi.h"
#include "cb_seccomp.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The signal the engine uses unless told otherwise: the kernel's SIGRTMIN+1 (33),
/// which glibc never lets application code block (see signal.c).
#define CB_DEFAULT_SIGNAL 33

/// Outcome of a broadcast.
typedef enum cb_status {
    CB_OK = 0,           ///< every reached thread ran the call with the caller's result
    CB_CALL_FAILED = 1,  ///< the caller's own call failed (`result` = -errno); no thread changed
    CB_UNREACHABLE = 2,  ///< a thread did not answer before the deadline; no thread changed unless `changed` (relaxed)
    CB_MISMATCH = 3,     ///< every thread ran the call; some results differ from the caller's
    CB_INCOMPLETE = 4,   ///< the deadline passed while threads were still running the call
    CB_BUSY = 5,         ///< the deadline passed waiting for another broadcast of this process
    CB_SETUP_FAILED = 6, ///< /proc, memory or the handler could not be set up (`setup_errno`); no thread changed
    CB_INVALID = 7,      ///< an option is out of range; nothing was done
} cb_status;

/// What a problem entry is about.
typedef enum cb_problem_kind {
    CB_PROBLEM_UNREACHABLE = 1, ///< did not answer in time (see `reason`)
    CB_PROBLEM_MISMATCH = 2,    ///< ran the call and got `result`, unlike the caller
    CB_PROBLEM_NO_RESULT = 3,   ///< was still running the call at the deadline
    CB_PROBLEM_SKIPPED = 4,     ///< a task that runs no application code (see `reason`)
} cb_problem_kind;

/// Why a thread was unreachable or skipped.
typedef enum cb_reason {
    CB_REASON_NONE = 0,
    CB_REASON_SIGNAL_BLOCKED = 1,  ///< its signal mask blocks the signal
    CB_REASON_STOPPED = 2,         ///< stopped by a tracer or job control (state t/T)
    CB_REASON_UNINTERRUPTIBLE = 3, ///< in uninterruptible sleep (state D)
    CB_REASON_NO_RESPONSE = 4,     ///< signalled, runnable, but did not answer
    CB_REASON_QUEUE_FULL = 5,      ///< the signal could not be queued (RLIMIT_SIGPENDING)
    CB_REASON_SEND_FAILED = 6,     ///< the kernel refused the signal (`result` = -errno)
    CB_REASON_ZOMBIE_MAIN = 7,     ///< the main thread called pthread_exit (state Z)
    CB_REASON_IO_WORKER = 8,       ///< an io_uring worker (takes no signals)
    CB_REASON_EXITING = 9,         ///< the thread is exiting
    CB_REASON_STILL_RUNNING = 10,  ///< took the signal, but had not finished the call at the deadline
    CB_REASON_GAVE_UP = 11,        ///< held past its own deadline without a decision; ran nothing
} cb_reason;

/// One thread that needs a word in the report.
typedef struct cb_problem {
    int32_t tid;
    int32_t kind;    ///< cb_problem_kind
    int32_t reason;  ///< cb_reason
    char state;      ///< /proc state letter when known, else 0
    char name[16];   ///< comm, NUL-terminated (empty when the thread is gone)
    long result;     ///< raw result of the call on that thread (-errno), or -errno of the send
} cb_problem;

typedef struct cb_options {
    int64_t timeout_ns;        ///< deadline, relative to the call (must be > 0)
    int32_t signal;            ///< kernel signal number, 33...64
    int32_t abort_on_mismatch; ///< nonzero: print the mismatch and abort(), like glibc and Go
    int32_t probe;             ///< nonzero: run on every thread even when the caller's call fails,
                               ///< and compare every result (for calls expected to fail everywhere)
    int32_t relaxed;           ///< nonzero: glibc's semantics (caller first, no hold; see protocol.c)
} cb_options;

typedef struct cb_report {
    int32_t status;         ///< cb_status
    int32_t setup_errno;    ///< errno behind CB_SETUP_FAILED
    int32_t changed;        ///< nonzero when the caller (and maybe others) ran the call
    long result;            ///< the caller's raw result (-errno on failure)
    uint32_t threads;       ///< threads that ran the call, the caller included
    uint32_t rounds;        ///< signalling rounds (more than one when threads appeared)
    uint32_t skipped;       ///< tasks skipped (zombie main, io_uring workers, exiting)
    int64_t elapsed_ns;     ///< wall time from entry to return
    cb_problem *problems;   ///< heap array, owned by the report (cb_report_free)
    uint32_t problem_count;
} cb_report;

/// Runs `nr(args[0..5])` on every thread of the process. Always fills `out`.
void cb_broadcast(long nr, const long args[6], const cb_options *opts, cb_report *out);

/// Frees what `cb_broadcast` allocated in `report`.
void cb_report_free(cb_report *report);

/// Process-wide counters, for tests and the benchmark.
typedef struct cb_stats {
    uint64_t broadcasts;      ///< broadcasts that reached the signalling phase
    uint64_t handler_runs;    ///< calls run by the signal handler on other threads
    uint64_t not_ours;        ///< deliveries that were not a live broadcast (passed on or dropped)
} cb_stats;

void cb_get_stats(cb_stats *out);

#ifdef __cplusplus
}
#endif
#endif
