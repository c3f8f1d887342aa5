// CThreadStarter: threads started from C that stay blocked in a syscall for the rest of the
// process, for `allthreads --threads` (real threads the broadcast must reach, in several
// kernel states), and the handshake that starts them, which the test fixtures reuse to start
// threads of their own.
//
// Every function here is bounded in time and works without root.
#ifndef CTHREADSTARTER_H
#define CTHREADSTARTER_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What a thread started by ts_start_idle_thread does forever.
typedef enum ts_idle {
    /// Loops on pause().
    TS_IDLE_PAUSE = 0,
    /// Blocked in read() on a pipe nobody writes to (one pipe shared by all such threads).
    TS_IDLE_READ = 1,
    /// Loops on FUTEX_WAIT (private) on a word nobody changes.
    TS_IDLE_FUTEX = 2,
    /// Loops on nanosleep of one hour, restarting on EINTR.
    TS_IDLE_NANOSLEEP = 3,
} ts_idle;

/// Starts a detached thread that stays in state `kind` forever.
/// Returns its kernel tid (> 0) once it runs, or -errno (-ETIMEDOUT after 10 s, -EINVAL for an unknown kind).
int ts_start_idle_thread(ts_idle kind);

/// The most bytes of state ts_start_thread hands to a new thread.
#define TS_STATE_BYTES 32

/// Starts a detached thread named `name` (at most 15 characters are kept) that gets a copy of
/// the `size` bytes at `state` (at most TS_STATE_BYTES) on its own stack, runs `prepare` on that
/// copy (it returns 0 or -errno; NULL: nothing to prepare), reports, and then, if prepared,
/// runs `run` on it and pause()s forever once `run` returns (at once if `run` is NULL).
/// Returns the thread's tid once it is prepared, or -errno: `prepare`'s error, -ETIMEDOUT
/// after 10 s, -EINVAL if `size` is too large.
int ts_start_thread(const char *name, int (*prepare)(void *state), void (*run)(void *state),
                    const void *state, size_t size);

// ---- helpers, also for the C fixtures of the tests ----

/// Stack size of every thread started here: small, since they do little.
#define TS_STACK_BYTES (256 * 1024)
/// The calling thread's kernel tid (raw gettid syscall).
int ts_gettid(void);
/// Raw futex call with a relative timeout (or NULL); returns the syscall's result.
long ts_futex(int *word, int op, int value, const struct timespec *timeout);
/// Sets `deadline` to CLOCK_MONOTONIC now + `seconds`; 0 or -errno.
int ts_deadline_after(struct timespec *deadline, long seconds);
/// 1 and the time left until `deadline` in `left`, or 0 once it has passed.
int ts_time_left(const struct timespec *deadline, struct timespec *left);
/// Names the calling thread (its comm, at most 15 characters).
void ts_set_name(const char *name);
/// pthread_create with that stack size, detached or joinable; 0 or -errno.
int ts_spawn(pthread_t *thread, void *(*body)(void *), void *arg, size_t stack_bytes, int detached);

#ifdef __cplusplus
}
#endif

#endif // CTHREADSTARTER_H
