// CWorkload: odd threads for the tests and the benchmark of a library that broadcasts a
// syscall to every thread of a process: busy loops, a signal blocker, a thread with a seccomp
// filter of its own. They start through CThreadStarter's handshake, as the idle threads of
// `allthreads --threads` do; the shipped command links none of this.
//
// Every function here is bounded in time and works without root.
#ifndef CWORKLOAD_H
#define CWORKLOAD_H

#include "CThreadStarter.h"

#ifdef __cplusplus
extern "C" {
#endif

/// What a thread started by cw_start_busy_thread does forever; it never sleeps.
typedef enum cw_busy {
    /// malloc/free of varying sizes (1..4096 bytes).
    CW_BUSY_MALLOC = 0,
    /// snprintf into a buffer and fprintf to a FILE* opened on /dev/null.
    CW_BUSY_STDIO = 1,
} cw_busy;

/// Starts a detached thread that runs the busy loop `kind` forever.
/// Returns its kernel tid (> 0) once it runs, or -errno (-EINVAL for an unknown kind).
int cw_start_busy_thread(cw_busy kind);

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

/// Sleeps that long, resuming after signals.
void cw_sleep_ns(long nanoseconds);

#ifdef __cplusplus
}
#endif

#endif // CWORKLOAD_H
