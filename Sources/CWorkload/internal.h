// Helpers shared by the CWorkload sources; not part of the public header.
#ifndef CWORKLOAD_INTERNAL_H
#define CWORKLOAD_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

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

#endif // CWORKLOAD_INTERNAL_H
