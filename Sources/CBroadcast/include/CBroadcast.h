// CBroadcast: run one system call on every thread of the calling process.
// The protocol and its invariants are described at the top of protocol.c.
#ifndef CBROADCAST_H
#define CBROADCAST_H

#include <stddef.h>
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
    CB_OK = 0,           ///< every reached thread ran every step with the expected results
    CB_CALL_FAILED = 1,  ///< the caller's first step failed (`result` = -errno); no thread changed
    ///< (a later step failed on the caller: CB_STEP_FAILED)
    CB_UNREACHABLE = 2,  ///< a thread did not answer before the deadline; no thread changed unless `changed` (relaxed)
    CB_MISMATCH = 3,     ///< every thread ran the call; some results differ from the caller's
    CB_INCOMPLETE = 4,   ///< the deadline passed while threads were still running the call, or a thread
                         ///< died inside the handler (CB_REASON_DIED)
    CB_BUSY = 5,         ///< the deadline passed waiting for another broadcast of this process (or for a late
                         ///< handler of the previous one); at once when called from a signal handler
                         ///< that interrupted this thread's own broadcast
    CB_SETUP_FAILED = 6, ///< /proc, memory or the handler could not be set up (`setup_errno`); no thread changed
    CB_INVALID = 7,      ///< an option or a step is out of range; nothing was done
    CB_STEP_FAILED = 8,  ///< the caller's step `failed_step` (> 0) failed (`result`); every thread
                         ///< ran exactly the steps before it
    CB_PROC_ELSEWHERE = 9, ///< /proc is mounted from a PID namespace this process is not in, so its
                           ///< threads cannot be listed or named; nothing was done
} cb_status;

/// What a problem entry is about.
typedef enum cb_problem_kind {
    CB_PROBLEM_UNREACHABLE = 1, ///< did not answer in time (see `reason`)
    CB_PROBLEM_MISMATCH = 2,    ///< got `result` at step `step`, not `expected`, and stopped there
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
    CB_REASON_DIED = 12,           ///< took the signal and died inside the handler (e.g. its seccomp
                                   ///< filter killed it at the step); whether it ran a step is unknown
    CB_REASON_NOT_SIGNALLED = 13,  ///< listed, but the deadline passed before its signal was sent
    CB_REASON_USER_WORKER = 14,    ///< a kernel worker of the process that is not io_uring's (vhost,
                                   ///< PF_USER_WORKER, Linux 6.4+): takes no signals, runs no application code
    CB_REASON_PROC_DENIED = 15,    ///< did not answer, and reading its /proc entry was denied (EACCES, e.g.
                                   ///< a Landlock domain): why (blocked signal, stopped...) is unknown
} cb_reason;

/// One thread that needs a word in the report.
typedef struct cb_problem {
    int32_t tid;
    int32_t kind;    ///< cb_problem_kind
    int32_t reason;  ///< cb_reason
    char state;      ///< /proc state letter when known, else 0
    char name[16];   ///< comm, NUL-terminated (empty when the thread is gone)
    long result;     ///< raw result of the step on that thread (-errno), or -errno of the send
    uint32_t step;   ///< mismatch: the step (0-based) at which the thread stopped
    long expected;   ///< mismatch: the result that step expected
} cb_problem;

/// What a step's result must be, on the caller and on every thread.
typedef enum cb_expect {
    CB_EXPECT_CALLER = 0, ///< whatever the caller got; a failure (-4095...-1) on the caller stops the program
    CB_EXPECT_VALUE = 1,  ///< exactly `value`, on the caller too (a proof step: setuid(0) must give -EPERM)
    CB_EXPECT_PROBE = 2,  ///< whatever the caller got, even a failure: runs everywhere, compared with the caller's
} cb_expect;

/// The most steps one broadcast carries.
#define CB_MAX_STEPS 64

/// One step of a program: a system call, and what its result must be.
typedef struct cb_step {
    long nr;          ///< system call number (>= 0)
    long args[6];
    int32_t expect;   ///< cb_expect
    long value;       ///< with CB_EXPECT_VALUE: the expected raw result
} cb_step;

typedef struct cb_options {
    int64_t timeout_ns;        ///< deadline, relative to the call (must be > 0)
    int32_t signal;            ///< kernel signal number, 33...64
    int32_t abort_on_mismatch; ///< nonzero: print the mismatch and abort(), like glibc and Go
    int32_t relaxed;           ///< nonzero: the caller first, no hold (see protocol.c)
} cb_options;

typedef struct cb_report {
    int32_t status;         ///< cb_status
    int32_t setup_errno;    ///< errno behind CB_SETUP_FAILED
    int32_t changed;        ///< nonzero when the caller (and maybe others) ran the call
    long result;            ///< the caller's raw result of its last step run (-errno on failure)
    uint32_t failed_step;   ///< CB_CALL_FAILED, CB_STEP_FAILED: the caller's step that failed
    uint32_t steps_applied; ///< steps every thread was told to run (all, or those before the failed one)
    uint32_t threads;       ///< threads that ran the call, the caller included
    uint32_t rounds;        ///< signalling rounds (more than one when threads appeared)
    uint32_t skipped;       ///< tasks skipped (zombie main, io_uring workers, exiting)
    int64_t elapsed_ns;     ///< wall time from entry to return
    cb_problem *problems;   ///< heap array, owned by the report (cb_report_free)
    uint32_t problem_count;
    long results[CB_MAX_STEPS]; ///< the caller's raw result of each step it ran (last: not zeroed on entry)
} cb_report;

/// Runs the `count` steps (1...CB_MAX_STEPS) in order on every thread of the process, as one
/// stop: the steps are copied before any thread is stopped. Always fills `out`.
void cb_broadcast_steps(const cb_step *steps, uint32_t count, const cb_options *opts, cb_report *out);

/// Runs `nr(args[0..5])` on every thread of the process: a one-step program. Always fills `out`.
void cb_broadcast(long nr, const long args[6], const cb_options *opts, cb_report *out);

/// Frees what `cb_broadcast` allocated in `report`.
void cb_report_free(cb_report *report);

/// The size of `cb_task_state.name`: a task name (at most 15 bytes) and its NUL.
#define CB_TASK_NAME_SIZE 64

/// What a task's /proc status and stat files say, as `cb_task_state_read` parsed them.
typedef struct cb_task_state {
    char state;                    ///< `State:` letter
    char name[CB_TASK_NAME_SIZE];  ///< `Name:`, unescaped, NUL-terminated
    uint32_t uids[4], gids[4];     ///< real, effective, saved, filesystem
    uint64_t capabilities[5];      ///< CapInh, CapPrm, CapEff, CapBnd, CapAmb
    int32_t no_new_privs, seccomp;
    uint64_t signals_blocked;      ///< `SigBlk:`
    uint32_t group_count;          ///< the groups `Groups:` lists (only the first `capacity` are stored)
    uint32_t cpus_offset, cpus_length; ///< `Cpus_allowed_list:`'s value in the buffer (length 0: none)
    uint64_t voluntary_switches, involuntary_switches; ///< 0 when absent
    uint32_t flags;                ///< stat field 9 (PF_*), 0 when stat was not read
    int32_t nice;                  ///< stat field 19, 0 when stat was not read
    int32_t has_stat;              ///< 1 when stat was read (the task blocks every signal it can)
} cb_task_state;

/// Reads task `tid`'s status file below `task_dirfd` (an open /proc/self/task), and its stat
/// file only when the task blocks every signal it can (as every io_uring task does), with one read each
/// into `buf` and parses the lines a credential proof reads; the first `capacity`
/// supplementary groups go to `groups`. Allocates nothing. Returns 0; -ENOENT or -ESRCH when the
/// task is gone; -EFBIG when a file does not fit in `size`; -EBADMSG when a file is not as
/// expected (read it with the full parser, which says why); another -errno from the kernel.
long cb_task_state_read(int task_dirfd, int32_t tid, char *buf, size_t size, uint32_t *groups, uint32_t capacity,
                        cb_task_state *out);

#ifdef __cplusplus
}
#endif
#endif
