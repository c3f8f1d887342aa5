// Internal helpers of the CBroadcast engine: raw system calls, futexes and the
// /proc readers. Everything here is async-signal-safe: no libc function that
// takes a lock, allocates or touches errno is called.
#ifndef CBROADCAST_INTERNAL_H
#define CBROADCAST_INTERNAL_H

#ifndef __linux__
#error "AllThreads is Linux-only: per-thread credentials are a Linux property."
#endif
#if !defined(__x86_64__) && !defined(__aarch64__)
#error "CBroadcast supports x86_64 and aarch64 (raw system call and signal-return code)."
#endif

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <time.h>

// Internal to the engine: not exported from the library (check: readelf -s on the objects).
#define CB_HIDDEN __attribute__((visibility("hidden")))

// Code that runs in the signal handler. Sanitizer runtimes (TSan, ASan) are not
// async-signal-safe and do not know about a handler installed with the raw
// syscall, so the handler path carries no instrumentation.
#if defined(__has_attribute) && __has_attribute(disable_sanitizer_instrumentation)
#define HANDLER_CODE __attribute__((disable_sanitizer_instrumentation))
#else
#define HANDLER_CODE
#endif

// A system call that returns the kernel's raw result (-errno on failure) and
// never writes errno, so the signal handler cannot disturb the thread it
// interrupted.
HANDLER_CODE static inline long cb_sys6(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#else
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
#endif
}

#define cb_sys0(n) cb_sys6((n), 0, 0, 0, 0, 0, 0)
#define cb_sys1(n, a) cb_sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define cb_sys2(n, a, b) cb_sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define cb_sys3(n, a, b, c) cb_sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define cb_sys4(n, a, b, c, d) cb_sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

// Monotonic nanoseconds. clock_gettime is async-signal-safe (POSIX) and is a
// vDSO call that takes no lock.
static inline int64_t cb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// Sleeps while *word == expected, until woken or until the absolute monotonic
// deadline (0: no deadline). Spurious returns are fine: every caller loops.
HANDLER_CODE static inline long cb_futex_wait(const _Atomic uint32_t *word, uint32_t expected, int64_t deadline_ns) {
    struct timespec ts, *tp = NULL;
    if (deadline_ns > 0) {
        ts.tv_sec = deadline_ns / 1000000000;
        ts.tv_nsec = deadline_ns % 1000000000;
        tp = &ts;
    }
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timeout, so a wait
    // interrupted by a signal and restarted cannot stretch the deadline.
    return cb_sys6(SYS_futex, (long)word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, (long)tp, 0,
                   FUTEX_BITSET_MATCH_ANY);
}

HANDLER_CODE static inline void cb_futex_wake(const _Atomic uint32_t *word, int count) {
    cb_sys3(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count);
}

// ---- /proc readers (proc.c) -------------------------------------------------

// Calls visit(tid, ctx) for every task listed in the directory `dirfd`
// (an open /proc/<pid>/task), reading with getdents64 into `buf`.
// Returns 0 or -errno.
CB_HIDDEN long cb_proc_scan(int dirfd, char *buf, size_t bufsize, void (*visit)(int32_t tid, void *ctx), void *ctx);

// The number of threads of the process whose task directory is open at
// `task_dirfd` (O(1) in the kernel). Returns the count or -errno.
CB_HIDDEN long cb_proc_thread_count(int task_dirfd);

// What /proc says about one task, for triage and diagnostics.
typedef struct cb_task_info {
    char state;          // State letter from stat ('R', 'S', 'D', 'Z', 't', ...), 0 if unknown
    uint32_t flags;      // task flags (PF_*) from stat
    uint64_t sigblk;     // SigBlk mask from status (bit n-1 = signal n)
    bool has_sigblk;
    char name[16];       // comm
    uint64_t start;      // starttime from stat: clock ticks since boot, fixed for the task's life
} cb_task_info;

// The decimal number at the start of the small /proc file open at `fd` (read from
// offset 0), or -errno.
CB_HIDDEN long cb_proc_read_number(int fd);

// Reads <name>/stat (and, with `with_status`, <name>/status) below the task
// directory `dirfd`. Returns 0, or -ENOENT when the task is gone.
CB_HIDDEN long cb_proc_task_info(int dirfd, int32_t name, bool with_status, cb_task_info *out);

// Opens <name>/<leaf> below `dirfd` (read-only, close-on-exec). Returns the fd or -errno.
CB_HIDDEN long cb_proc_open_task_file(int dirfd, int32_t name, const char *leaf);

// Reads the stat file open at `fd` (from offset 0). An open /proc file stays readable after
// a Landlock domain forbids opening it, and keeps naming its task: -ESRCH once that task is
// gone, whoever has its tid by then. Returns 0 or -errno.
CB_HIDDEN long cb_proc_read_stat(int fd, cb_task_info *out);

// The starttime (stat field 22, clock ticks since boot) of the task whose stat file is at
// `path` below `dirfd`. Returns 0, or -errno (-ENOENT: the task is gone).
CB_HIDDEN long cb_proc_start(int dirfd, const char *path, uint64_t *start);

// The id of a task in its own PID namespace: the last field of the `NSpid:` line of the
// status file at `path` below `dirfd` (the line lists the ids from /proc's namespace
// down to the task's own). `levels`, unless NULL, gets the number of fields: 1 when /proc
// belongs to the task's own namespace. Returns the id, or -errno (-ENOENT or -ESRCH:
// the task is gone; -ENODATA: no NSpid line, before Linux 4.1).
CB_HIDDEN long cb_proc_ns_tid(int dirfd, const char *path, int *levels);

// cb_proc_ns_tid of the task `name` below the task directory `dirfd`.
CB_HIDDEN long cb_proc_own_tid(int dirfd, int32_t name);

#endif
