// The kernel matrix: the engine's own C tests, built -static for each architecture and run as
// the /init of a throwaway VM (scripts/kernel-matrix.sh) and on the host kernel.
//
// `kmtests <test> <strict|relaxed>` runs one test in its own process (they change credentials
// for good) and prints one line: "PASS ...", "FAIL ..." or "SKIP ...". Every test checks each
// thread's real state through /proc/self/task/<tid>/status (or, where /proc is denied, by a
// probe call every thread runs), never only the engine's report.
#ifndef KM_H
#define KM_H

#include <CBroadcast.h>
#include <stdbool.h>
#include <sys/types.h>

/// Exit statuses of a test (77: skipped, as automake counts it).
enum { KM_PASS = 0, KM_FAIL = 1, KM_SKIP = 77 };

/// Bit of a mode in a test's `modes`.
enum { KM_STRICT = 1, KM_RELAXED = 2 };

/// Every test, with the modes it runs in: X(name, modes). The atomic view is a promise of the
/// strict mode only (in relaxed mode each thread goes on as soon as it changed);
/// seccomp's thread sync is the kernel's own, with no mode.
#define KM_TESTS(X)                          \
    X(single, KM_STRICT | KM_RELAXED)        \
    X(program, KM_STRICT | KM_RELAXED)       \
    X(churn, KM_STRICT | KM_RELAXED)         \
    X(atomic, KM_STRICT)                     \
    X(forged, KM_STRICT | KM_RELAXED)        \
    X(io_uring, KM_STRICT | KM_RELAXED)      \
    X(landlock, KM_STRICT | KM_RELAXED)      \
    X(seccomp, KM_STRICT)                    \
    X(fork, KM_STRICT | KM_RELAXED)

#define KM_DECLARE(name, modes) int km_test_##name(bool relaxed);
KM_TESTS(KM_DECLARE)
#undef KM_DECLARE

/// Prints the kernel facts the tests depend on, one "name value" line each.
int km_probe(void);

// ---- support (support.c) ----

/// The options every test broadcasts with: signal 33, a deadline generous enough for TCG.
cb_options km_options(bool relaxed);

/// Prints the test's one line ("PASS ...", "FAIL ...", "SKIP ...") and returns `status`.
int km_report(int status, const char *format, ...) __attribute__((format(printf, 2, 3)));
#define km_pass(...) km_report(KM_PASS, __VA_ARGS__)
#define km_fail(...) km_report(KM_FAIL, __VA_ARGS__)
#define km_skip(...) km_report(KM_SKIP, __VA_ARGS__)

/// Whether the report names at least one thread and gives every named thread a tid and a reason.
bool km_names_every_problem(const cb_report *report);

/// A report's status, skips and problems, for a FAIL line.
const char *km_describe(const cb_report *report);

/// Starts `count` idle threads of the kinds the workload offers (pause, read, futex, nanosleep).
/// Returns 0 or -errno.
int km_start_idle_threads(int count);

/// What km_check_threads found.
typedef struct km_census {
    int matched;     ///< threads whose status line is as expected
    int io_workers;  ///< io_uring workers (PF_IO_WORKER), not compared: they run no application code
    int exiting;     ///< threads exiting (PF_EXITING) or gone between the listing and the read
    int wrong;       ///< threads with another value: the failure
    pid_t first_wrong;
    char wrong_line[96];
} km_census;

/// Reads the `field` line ("Gid", "Uid", "Groups") of every thread's /proc/self/task/<tid>/status
/// and compares its values (whitespace-separated) with `expected`.
km_census km_check_threads(const char *field, const char *expected);

/// The PF_* flags of thread `tid` (field 9 of its stat file), or -errno.
long km_task_flags(pid_t tid);

/// "g\tg\tg\tg" as the Uid:/Gid: lines show an id set to `id` four times.
const char *km_ids(unsigned id);

/// A one-step cb_step of `nr` with up to three arguments, the result compared with the caller's.
cb_step km_step(long nr, long a0, long a1, long a2);

#endif
