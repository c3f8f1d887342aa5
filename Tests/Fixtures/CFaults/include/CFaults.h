// CFaults: faults, odd tasks, forged signals, glibc's own broadcasts, thread churn and
// births, broadcasting children and io_uring rings: what the scenarios, the torture matrix
// and the benchmark need, and the shipped command never links.
#ifndef CFAULTS_H
#define CFAULTS_H

#include <CWorkload.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- faults and odd tasks for the torture suite (faults.c) ----

/// Starts a thread that vforks a child which sleeps `milliseconds` and exits: meanwhile the
/// thread waits in the kernel, uninterruptible by our signal (state D). Returns its tid, or -errno.
int cw_start_vfork_sleeper(int milliseconds);

/// Stops thread `tid` of another process with ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT) and
/// waits until it is in ptrace-stop (state t). Returns 0 or -errno.
int cw_ptrace_stop(int tid);

/// Detaches from a thread stopped by cw_ptrace_stop; it runs on. Returns 0 or -errno.
int cw_ptrace_detach(int tid);

/// Creates an io_uring and submits a read from a pipe nobody writes with IOSQE_ASYNC, so an
/// io_uring worker thread (iou-wrk-*) blocks in it. Returns the ring's fd, or -errno.
int cw_start_io_uring_worker(void);

// ---- io_uring rings for the privilege-drop scenarios (io_uring_ring.c) ----

/// Options of cw_ring_create.
enum {
    /// IORING_SETUP_SQPOLL: a kernel thread (iou-sqp-*) submits, with the creator's credentials.
    CW_RING_SQPOLL = 1,
    /// IORING_SETUP_NO_MMAP (kernel 6.5+): the rings live in memory of ours, so the ring has no
    /// mapping in /proc/self/maps.
    CW_RING_USER_MEMORY = 2,
};

/// Creates a ring of 4 entries with `options` (CW_RING_*) and maps it. Returns a handle
/// (0..7, not an fd) for the other cw_ring_* calls, or -errno.
int cw_ring_create(int options);

/// The ring's file descriptor; -1 once closed; -EBADF for a bad handle.
int cw_ring_fd(int handle);

/// IORING_REGISTER_PERSONALITY: registers the calling thread's credentials with the ring.
/// Returns the personality id (> 0), or -errno.
int cw_ring_register_personality(int handle);

/// IORING_REGISTER_RING_FDS: registers the ring in the calling thread's registered-ring table,
/// so that thread can enter it without the fd. Returns the slot, or -errno.
int cw_ring_register_fd(int handle);

/// Closes the ring's fd only: a mapping or a registration keeps the ring alive. 0 or -errno.
int cw_ring_close_fd(int handle);

/// Closes the ring's fd and unmaps it (user memory stays mapped); frees the handle. 0 or -errno.
int cw_ring_release(int handle);

/// Submits IORING_OP_OPENAT of `path` (read-only) through the ring, acting as `personality`
/// (0: the submitter; with SQPOLL, the ring's creator), through its fd or, once closed, its
/// registered slot, and waits at most 5 s. Returns 0 when the file opened (it is closed again),
/// the open's -errno, or -ETIMEDOUT.
int cw_ring_openat(int handle, const char *path, int personality);

/// Submits, on a ring without SQPOLL, a poll of `poll_fd` (readable) and behind it an
/// IORING_OP_OPENAT of `path` with IOSQE_IO_DRAIN: the open waits until the poll completes (write
/// to `poll_fd`'s pipe), and then runs with the credentials of the submitter at submission. 0 or -errno.
int cw_ring_queue_drained_openat(int handle, int poll_fd, const char *path);

/// Waits at most 5 s for the drained open's completion: 0 when the file opened (closed again),
/// the open's -errno, or -ETIMEDOUT.
int cw_ring_drained_openat_result(int handle);

/// Creates a ring with `options` on a new thread that, with `personality`, also registers its
/// credentials as a personality (cw_ring_personality), and then exits: no live thread of the
/// process has used io_uring. Returns the handle, or -errno.
int cw_ring_create_on_exiting_thread(int options, int personality);

/// The personality registered by cw_ring_create_on_exiting_thread, 0 if none, -EBADF for a bad handle.
int cw_ring_personality(int handle);

/// The ATTACH_WQ hole: a thread that switches itself alone to `uid` (gid and groups: the same
/// number) makes SQPOLL ring A and
/// exits (A's SQPOLL thread holds `uid`); a thread with the caller's credentials makes ring B
/// (SQPOLL, ATTACH_WQ to A, rings in user memory), submits a poll on B's own fd, and exits; A is
/// closed and unmapped, B's fd closed. B lives on through its own poll, is served by A's SQPOLL
/// thread with B's creator's credentials, and /proc shows no fd, mapping or registration of it.
/// Returns B's handle, or -errno.
int cw_ring_attached_behind_sqpoll_of(unsigned uid);

/// Submits IORING_OP_OPENAT of `path` by a write to the ring's memory only (an SQPOLL ring,
/// even with its fd closed) and waits at most 5 s: 0 when the file opened, -errno, or -ETIMEDOUT.
int cw_ring_submit_openat(int handle, const char *path);

/// Starts a thread with a descriptor table of its own (unshare(CLONE_FILES)) that holds a ring
/// with a personality registered by a thread it started, which has exited. Returns its tid, or -errno.
int cw_start_own_table_ring(void);

/// The fd of that ring in that thread's table, or -errno.
int cw_own_table_ring_fd(void);

/// Has that thread open `path` through its ring with the personality; waits at most 10 s.
/// 0 when the file opened, -errno, or -ETIMEDOUT.
int cw_own_table_openat(const char *path);

/// Starts the process's one ring maker: a thread that blocks `kernel_signal` (raw rt_sigprocmask)
/// and, once that signal is pending for it (a broadcast has started and waits for it) for the
/// `skip`+1st time, creates a ring with `options`, with the credentials it holds at that moment,
/// then unblocks the signal so the broadcast goes on (the `skip` broadcasts before reach it at
/// once). Returns its tid once the signal is blocked, or -errno (-EBUSY: one ran).
int cw_start_ring_maker(int kernel_signal, int options, int skip);

/// The ring maker's ring handle (waits at most 10 s), or -errno (-ETIMEDOUT: no broadcast came).
int cw_ring_maker_result(void);

/// Starts an idle thread with the smallest stack glibc allows (PTHREAD_STACK_MIN). Returns its tid.
int cw_start_tiny_stack_thread(void);

/// Starts an idle thread whose signal handlers run on an alternate signal stack of
/// `sysconf(_SC_MINSIGSTKSZ) + extra_bytes`. Returns its tid, or -errno.
int cw_start_altstack_thread(int extra_bytes);

/// Sets this process's soft RLIMIT_SIGPENDING; returns the previous soft limit, or -errno.
long cw_set_sigpending_limit(long limit);

/// Sets kernel signal `kernel_signal` to SIG_IGN with the raw rt_sigaction (which also
/// discards its pending deliveries), as a foreign library might. Returns 0 or -errno.
int cw_ignore_signal_raw(int kernel_signal);

/// Starts `forkers` threads looping fork()+_exit+waitpid and `spawners` threads looping
/// posix_spawn(/bin/true)+waitpid, until cw_stop_process_makers(). Returns 0 or -errno.
int cw_start_process_makers(int forkers, int spawners);

/// Stops and joins the process makers; returns how many children they made.
unsigned long cw_stop_process_makers(void);

/// Starts `creators` threads that each create and join short-lived children until cw_churn_stop().
/// Resets the cw_churn_created() count. Returns 0, -EINVAL, -EBUSY if churn already runs, or -errno.
int cw_churn_start(int creators);

/// Stops the churn and joins its creators (waits at most about 5 s). Does nothing if none runs.
void cw_churn_stop(void);

/// Children created since the last cw_churn_start().
unsigned long cw_churn_created(void);

/// The running glibc's version ("2.36").
const char *cw_glibc_version(void);

/// glibc's own setresuid(), which glibc broadcasts to every thread with SIGSETXID.
/// Returns 0 or -errno.
int cw_glibc_setresuid(int ruid, int euid, int suid);

/// glibc's own credential drop: setgroups(0, NULL), setresgid(gid x3), setresuid(uid x3),
/// each of which glibc broadcasts to every thread. Returns 0 or -errno.
int cw_glibc_credential_drop(unsigned uid, unsigned gid);
/// Sends `kernel_signal` to thread `tid` of process `pid` the way a forger in another
/// process can: rt_tgsigqueueinfo with si_code SI_QUEUE, si_pid set to `claimed_pid`
/// and si_value set to `value`. Returns 0 or -errno.
int cw_forge_signal(int pid, int tid, int kernel_signal, int claimed_pid, unsigned long long value);

// ---- births (births.c) ----

/// Starts a thread that starts a detached child every `period_us` microseconds; each child
/// lives about `life_us` microseconds and checks its own effective gid (raw getegid) at birth
/// and before it exits against the settled gid, unless a broadcast is in flight. Settles
/// `current_gid`. Returns 0, -EINVAL, -EBUSY if births already run, or -errno.
int cw_births_start(long period_us, long life_us, unsigned current_gid);
/// A broadcast begins: children stop checking until cw_births_settle().
void cw_births_unsettle(void);
/// A broadcast succeeded: every thread must now hold effective gid `gid`.
void cw_births_settle(unsigned gid);
/// Stops the birther (waits at most about 5 s). Children still alive finish on their own.
void cw_births_stop(void);

/// What the children saw.
typedef struct cw_births_tally {
    unsigned long born;     ///< children started
    unsigned long checked;  ///< self-checks made while a gid was settled
    unsigned long wrong;    ///< self-checks that found another effective gid: a missed thread
} cw_births_tally;

/// The children's tally since cw_births_start().
cw_births_tally cw_births_count(void);

// ---- children that broadcast (children.c) ----

/// How cw_child_broadcast makes its child.
typedef enum cw_child_kind {
    CW_CHILD_FORK = 0,       ///< glibc's _Fork(): no atfork handlers run
    CW_CHILD_RAW_CLONE = 1,  ///< the raw clone syscall with SIGCHLD: glibc knows nothing of it
    CW_CHILD_VFORK = 2,      ///< vfork(): the child runs in the parent's memory
    CW_CHILD_VFORK_SANDBOXED = 3, ///< vfork(), and the child's seccomp filter makes unshare() fail
} cw_child_kind;

/// What the child's broadcast returned, as its exit status.
enum {
    CW_CHILD_OK = 0,       ///< the broadcast succeeded
    CW_CHILD_REFUSED = 10, ///< refused: CB_SETUP_FAILED with EPERM
    CW_CHILD_FAILED = 20,  ///< 20 + any other cb_status
    CW_CHILD_SETUP = 40,   ///< the child could not load its seccomp filter
};

/// Makes a child of `kind` that broadcasts a timer slack with a 3 s deadline and exits
/// with its outcome; waits for it. Returns the exit status, 128 + signal, or -errno.
int cw_child_broadcast(cw_child_kind kind);

// ---- what real processes do to a broadcast (survival.c) ----

/// What a thread's seccomp filter does to the filtered call.
typedef enum cw_filter_action {
    CW_FILTER_KILL_THREAD = 0,  ///< SECCOMP_RET_KILL_THREAD: the thread dies at the call
    CW_FILTER_TRAP = 1,         ///< SECCOMP_RET_TRAP: SIGSYS, for a handler to emulate the call
} cw_filter_action;

/// A call whose third argument is this value passes the filters below: the SIGSYS
/// emulator re-issues the trapped call with it.
#define CW_EMULATED_MARK 0x5eccu

/// Starts a thread whose own seccomp filter applies `action` to `nr(a0, a1, ...)` (unless
/// the third argument is CW_EMULATED_MARK), then pauses forever. Returns its tid, or -errno.
int cw_start_filtered_thread(cw_filter_action action, long nr, long a0, long a1);

/// Starts a thread whose filter kills it at prctl(PR_SET_TIMERSLACK, slack) and which then
/// broadcasts exactly that call: it dies inside its own broadcast, holding the lock.
/// Returns its tid, or -errno.
int cw_start_doomed_caller(long slack, long long timeout_ns, int relaxed);

/// Waits (polling, at most `milliseconds`) until thread `tid` of this process is gone. 0 or -ETIMEDOUT.
int cw_wait_thread_gone(int tid, int milliseconds);

/// Installs a SIGSYS handler that re-issues the trapped call with CW_EMULATED_MARK as its
/// third argument and returns its result to the trapping thread. 0 or -errno.
int cw_install_sigsys_emulator(void);

/// Calls the SIGSYS emulator has run.
unsigned long cw_emulated_calls(void);

/// What cw_blocked_step_rounds saw.
typedef struct cw_blocked_tally {
    int rounds;
    int deadline_passed;      ///< rounds that ended INCOMPLETE or UNREACHABLE
    int named_none;           ///< rounds whose report named no thread as still running
    unsigned named;           ///< threads named as still running, over all rounds
    long long slowest_ns;     ///< the slowest broadcast, from call to return
} cw_blocked_tally;

/// Sets M_ARENA_MAX to 1, starts `loopers` threads looping malloc/free, then `rounds` times
/// broadcasts read(pipe, 1) with `timeout_ns`: the caller reads the one byte written, every
/// other thread blocks in the step inside its handler (loopers maybe inside malloc) until the
/// broadcast has returned and the pipe is filled. Returns 0 or -errno.
int cw_blocked_step_rounds(int loopers, int rounds, long long timeout_ns, int relaxed, cw_blocked_tally *out);

/// The child closed its inherited copy of the engine's descriptor, and the engine closed the
/// child's own file that took its number.
enum { CW_CHILD_FD_CLOSED = 11 };

/// Forks a child that puts a file of its own at the number of the engine's inherited
/// /proc/<pid>/task descriptor, starts a thread and broadcasts; exits CW_CHILD_OK when its file
/// is still open afterwards. Returns the exit status, 128 + signal, or -errno.
int cw_fork_child_reuses_engine_fd(int relaxed);

/// What cw_tid_reuse_broadcast saw.
typedef struct cw_reuse_outcome {
    int status;   ///< the broadcast's cb_status
    int exiter;   ///< the thread that ran the call and left
    int newborn;  ///< the thread started meanwhile by a thread that had not run it (0: none)
    int reused;   ///< nonzero when the newborn got the exiter's tid
    int problem_tid, problem_reason;  ///< the report's first problem, if any
} cw_reuse_outcome;

/// Starts a thread that leaves right after its handler ran prctl(PR_SET_TIMERSLACK, slack), and
/// one that blocks our signal and, once it is pending, waits for that exit, writes
/// ns_last_pid so that the next thread gets the same tid, starts one (with its own, old slack)
/// and unblocks. Then broadcasts the call (5 s deadline) and waits for the helpers. Needs a
/// private PID namespace (ns_last_pid is written). One call at a time; the reuser and the
/// newborn stay (paused). Returns 0 or -errno.
int cw_tid_reuse_broadcast(long slack, int relaxed, cw_reuse_outcome *out);

/// As cw_tid_reuse_broadcast, but the task that departs is the SQPOLL thread `sqpoll_tid` of
/// ring `ring` (cw_ring_create with CW_RING_SQPOLL), which the engine skips: once the signal is
/// pending on the reuser, it releases the ring, waits for that thread to exit and gives its tid
/// to a newborn with the old state. Returns 0 or -errno.
int cw_sqpoll_reuse_broadcast(long slack, int relaxed, int ring, int sqpoll_tid, cw_reuse_outcome *out);

#ifdef __cplusplus
}
#endif

#endif // CFAULTS_H
