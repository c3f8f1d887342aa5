// CWorkload: real threads of several kinds, for tests and benchmarks of a
// library that broadcasts a syscall to every thread of a process.
//
// Every function here is bounded in time and works without root.
#ifndef CWORKLOAD_H
#define CWORKLOAD_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What a thread started by cw_start_idle_thread does forever.
typedef enum cw_idle {
    /// Loops on pause().
    CW_IDLE_PAUSE = 0,
    /// Blocked in read() on a pipe nobody writes to (one pipe shared by all such threads).
    CW_IDLE_READ = 1,
    /// Loops on FUTEX_WAIT (private) on a word nobody changes.
    CW_IDLE_FUTEX = 2,
    /// Loops on nanosleep of one hour, restarting on EINTR.
    CW_IDLE_NANOSLEEP = 3,
    /// Busy loop: malloc/free of varying sizes (1..4096 bytes), never sleeps.
    CW_IDLE_MALLOC = 4,
    /// Busy loop: snprintf into a buffer and fprintf to a FILE* opened on /dev/null.
    CW_IDLE_STDIO = 5,
} cw_idle;

/// Starts a detached thread that stays in state `kind` forever.
/// Returns its kernel tid (> 0) once it runs, or -errno (-ETIMEDOUT after 10 s, -EINVAL for an unknown kind).
int cw_start_idle_thread(cw_idle kind);

/// Starts a detached thread that blocks kernel signal `kernel_signal` (1..64) in its own mask
/// with the raw rt_sigprocmask syscall and keeps it blocked until cw_release_signal_blockers(),
/// then unblocks it and pause()s forever. Returns its tid once the mask is set, or -errno.
int cw_start_signal_blocker(int kernel_signal);

/// Lets every signal blocker unblock its signal (the fault clears).
void cw_release_signal_blockers(void);

/// Starts a detached thread that loads a seccomp filter on itself only (allow everything,
/// except `syscall_nr`, which fails with errno `err`, 0..4095), then pause()s forever.
/// Returns its tid once the filter is loaded, or -errno.
int cw_start_seccomp_errno_thread(long syscall_nr, int err);

/// The calling thread's kernel tid (raw gettid syscall).
int cw_gettid(void);

// ---- helpers for the other C targets of the tests (CFaults) ----

/// Stack size of every thread CWorkload starts: small, since they do little.
#define CW_STACK_BYTES (256 * 1024)
/// Raw futex call with a relative timeout (or NULL); returns the syscall's result.
long cw_futex(int *word, int op, int value, const struct timespec *timeout);
/// Sets `deadline` to CLOCK_MONOTONIC now + `seconds`; 0 or -errno.
int cw_deadline_after(struct timespec *deadline, long seconds);
/// 1 and the time left until `deadline` in `left`, or 0 once it has passed.
int cw_time_left(const struct timespec *deadline, struct timespec *left);
/// Names the calling thread (its comm, at most 15 characters).
void cw_set_name(const char *name);
/// Sleeps that long, resuming after signals.
void cw_sleep_ns(long nanoseconds);
/// pthread_create with that stack size, detached or joinable; 0 or -errno.
int cw_spawn(pthread_t *thread, void *(*body)(void *), void *arg, size_t stack_bytes, int detached);

#ifdef __cplusplus
}
#endif

#endif // CWORKLOAD_H
