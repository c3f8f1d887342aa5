// Raw io_uring rings for the privilege-drop scenarios: rings made while the
// process is root, through which the scenarios show what a ring can still do
// after every thread has dropped (open /etc/shadow), and so why the drop's
// proof must refuse it.
//
// No liburing: the rings are set up and driven with the raw system calls, so
// the scenarios control every detail (SQPOLL, personalities, registered ring
// fds, rings in user memory). Every wait for a completion has a deadline.
#define _GNU_SOURCE
#include "CFaults.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <stdatomic.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/// Entries of each ring: one request in flight at a time is all a scenario needs.
#define RING_ENTRIES 4
/// Rings a scenario holds at once.
#define RING_MAX 8
/// How long an SQPOLL thread polls before it sleeps and needs IORING_ENTER_SQ_WAKEUP.
#define SQPOLL_IDLE_MS 1000
/// How long cw_ring_openat waits for the completion.
#define COMPLETION_SECONDS 5
/// IORING_SETUP_NO_MMAP (kernel 6.5): the rings live in memory the caller provides, so the
/// ring needs no mapping of its file. Debian 12's kernel headers (6.1) predate it.
#define SETUP_NO_MMAP (1U << 14)
/// Page size assumed for the user-memory rings: the kernel pins whole pages.
#define PAGE_BYTES 4096
/// How long the ring maker waits for a broadcast to start, and its creator for the maker.
#define MAKER_WAIT_SECONDS 10
/// How often the ring maker looks at its pending signals.
#define MAKER_POLL_NS 50000L

struct ring {
    int in_use;
    int fd;           // -1 once closed
    int slot;         // registered ring fd slot of the registering thread, -1 if none
    unsigned flags;   // IORING_SETUP_* as created
    struct io_uring_params params;
    char *sq;         // SQ ring (also the CQ ring: IORING_FEAT_SINGLE_MMAP, or user memory)
    char *cq;
    struct io_uring_sqe *sqes;
    size_t ring_bytes, sqe_bytes;
    void *user_memory;  // NO_MMAP rings: our own pages, never unmapped while the ring may live
};

static struct ring rings[RING_MAX];

static struct ring *ring_at(int handle) {
    if (handle < 0 || handle >= RING_MAX || !rings[handle].in_use) return NULL;
    return &rings[handle];
}

static int setup_mapped(struct ring *r) {
    struct io_uring_params *p = &r->params;
    size_t sq_bytes = p->sq_off.array + p->sq_entries * sizeof(uint32_t);
    size_t cq_bytes = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    // One mapping for both rings (every kernel that has SQPOLL without root has SINGLE_MMAP).
    r->ring_bytes = sq_bytes > cq_bytes ? sq_bytes : cq_bytes;
    r->sq = mmap(NULL, r->ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
    if (r->sq == MAP_FAILED) return -errno;
    r->cq = r->sq;
    r->sqe_bytes = p->sq_entries * sizeof(struct io_uring_sqe);
    r->sqes = mmap(NULL, r->sqe_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED) {
        int e = errno;
        munmap(r->sq, r->ring_bytes);
        return -e;
    }
    return 0;
}

int cw_ring_create(int options) {
    int handle = 0;
    while (handle < RING_MAX && rings[handle].in_use) handle++;
    if (handle == RING_MAX) return -EMFILE;
    struct ring *r = &rings[handle];
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->slot = -1;
    if (options & CW_RING_SQPOLL) {
        r->flags |= IORING_SETUP_SQPOLL;
        r->params.sq_thread_idle = SQPOLL_IDLE_MS;
    }
    if (options & CW_RING_USER_MEMORY) {
        // Page 0: the SQ and CQ rings; page 1: the SQEs (each must start on a page).
        r->user_memory = mmap(NULL, 2 * PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (r->user_memory == MAP_FAILED) return -errno;
        r->flags |= SETUP_NO_MMAP;
        // user_addr is named resv2 in the 6.1 headers.
        r->params.cq_off.resv2 = (uint64_t)(uintptr_t)r->user_memory;
        r->params.sq_off.resv2 = (uint64_t)(uintptr_t)((char *)r->user_memory + PAGE_BYTES);
    }
    r->params.flags = r->flags;
    r->fd = (int)syscall(SYS_io_uring_setup, RING_ENTRIES, &r->params);
    if (r->fd < 0) {
        int e = errno;
        if (r->user_memory) munmap(r->user_memory, 2 * PAGE_BYTES);
        return -e;
    }
    if (r->user_memory) {
        r->sq = r->cq = r->user_memory;
        r->sqes = (struct io_uring_sqe *)((char *)r->user_memory + PAGE_BYTES);
    } else {
        int rc = setup_mapped(r);
        if (rc != 0) {
            close(r->fd);
            return rc;
        }
    }
    r->in_use = 1;
    return handle;
}

int cw_ring_fd(int handle) {
    struct ring *r = ring_at(handle);
    return r ? r->fd : -EBADF;
}

int cw_ring_register_personality(int handle) {
    struct ring *r = ring_at(handle);
    if (!r || r->fd < 0) return -EBADF;
    long id = syscall(SYS_io_uring_register, r->fd, IORING_REGISTER_PERSONALITY, NULL, 0);
    return id < 0 ? -errno : (int)id;
}

int cw_ring_register_fd(int handle) {
    struct ring *r = ring_at(handle);
    if (!r || r->fd < 0) return -EBADF;
    // offset -1: the kernel picks a free slot of the calling thread's table and writes it back.
    struct io_uring_rsrc_update update = {.offset = UINT32_MAX, .data = (uint64_t)r->fd};
    if (syscall(SYS_io_uring_register, r->fd, IORING_REGISTER_RING_FDS, &update, 1) != 1) return -errno;
    r->slot = (int)update.offset;
    return r->slot;
}

int cw_ring_close_fd(int handle) {
    struct ring *r = ring_at(handle);
    if (!r || r->fd < 0) return -EBADF;
    int rc = close(r->fd) == 0 ? 0 : -errno;
    r->fd = -1;
    return rc;
}

int cw_ring_release(int handle) {
    struct ring *r = ring_at(handle);
    if (!r) return -EBADF;
    if (r->fd >= 0) close(r->fd);
    // User memory stays mapped: a registration may keep the ring, and so its use of these pages, alive.
    if (!r->user_memory) {
        munmap(r->sqes, r->sqe_bytes);
        munmap(r->sq, r->ring_bytes);
    }
    r->in_use = 0;
    return 0;
}

/// Enters the ring through its fd, or through its registered slot once the fd is closed.
static long enter(struct ring *r, unsigned to_submit, unsigned min_complete, unsigned flags, void *arg, size_t arg_bytes) {
    int target = r->fd;
    if (target < 0) {
        if (r->slot < 0) {
            errno = EBADF;
            return -1;
        }
        target = r->slot;
        flags |= IORING_ENTER_REGISTERED_RING;
    }
    return syscall(SYS_io_uring_enter, target, to_submit, min_complete, flags, arg, arg_bytes);
}

int cw_ring_openat(int handle, const char *path, int personality) {
    struct ring *r = ring_at(handle);
    if (!r) return -EBADF;
    struct io_uring_params *p = &r->params;
    _Atomic uint32_t *sq_tail = (_Atomic uint32_t *)(r->sq + p->sq_off.tail);
    uint32_t sq_mask = *(uint32_t *)(r->sq + p->sq_off.ring_mask);
    uint32_t *array = (uint32_t *)(r->sq + p->sq_off.array);
    uint32_t tail = atomic_load_explicit(sq_tail, memory_order_relaxed);
    uint32_t index = tail & sq_mask;
    struct io_uring_sqe *sqe = &r->sqes[index];
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_OPENAT;
    sqe->fd = AT_FDCWD;
    sqe->addr = (uint64_t)(uintptr_t)path;
    sqe->open_flags = O_RDONLY | O_CLOEXEC;
    sqe->personality = (uint16_t)personality;
    array[index] = index;
    // The SQE must be visible before the tail that publishes it (an SQPOLL thread reads it at once).
    atomic_store_explicit(sq_tail, tail + 1, memory_order_release);

    _Atomic uint32_t *cq_head = (_Atomic uint32_t *)(r->cq + p->cq_off.head);
    _Atomic uint32_t *cq_tail = (_Atomic uint32_t *)(r->cq + p->cq_off.tail);
    uint32_t cq_mask = *(uint32_t *)(r->cq + p->cq_off.ring_mask);
    struct io_uring_cqe *cqes = (struct io_uring_cqe *)(r->cq + p->cq_off.cqes);
    // Wait for the completion with a deadline (IORING_ENTER_EXT_ARG carries the timeout).
    struct __kernel_timespec timeout = {.tv_sec = COMPLETION_SECONDS};
    struct io_uring_getevents_arg arg = {.ts = (uint64_t)(uintptr_t)&timeout};
    int sqpoll = (r->flags & IORING_SETUP_SQPOLL) != 0;
    // With SQPOLL the kernel thread submits: wake it in case it went idle; to_submit is ignored.
    unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG | (sqpoll ? IORING_ENTER_SQ_WAKEUP : 0);
    if (enter(r, sqpoll ? 0 : 1, 1, flags, &arg, sizeof arg) < 0 && errno != ETIME) return -errno;
    uint32_t head = atomic_load_explicit(cq_head, memory_order_relaxed);
    if (atomic_load_explicit(cq_tail, memory_order_acquire) == head) return -ETIMEDOUT;
    int result = cqes[head & cq_mask].res;
    atomic_store_explicit(cq_head, head + 1, memory_order_release);
    if (result < 0) return result;
    close(result);  // the file opened through the ring: only whether it opened matters
    return 0;
}

// ---- a ring made while a broadcast waits ---------------------------------------

/// The one ring maker of the process: its futex words and parameters.
static struct {
    int tid;     // futex word: 0 until the mask is set, then the tid or -errno
    int result;  // futex word: 0 until done, then the handle + 1 or -errno
    int kernel_signal;
    int options;
} maker;

static void maker_publish(int *word, int value) {
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
    cw_futex(word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

static int maker_await(int *word) {
    struct timespec deadline, left;
    int rc = cw_deadline_after(&deadline, MAKER_WAIT_SECONDS);
    if (rc != 0) return rc;
    int value;
    while ((value = __atomic_load_n(word, __ATOMIC_ACQUIRE)) == 0) {
        if (!cw_time_left(&deadline, &left)) return -ETIMEDOUT;
        cw_futex(word, FUTEX_WAIT_PRIVATE, 0, &left);  // EINTR/EAGAIN/ETIMEDOUT: look again
    }
    return value;
}

static void *maker_main(void *unused) {
    (void)unused;
    cw_set_name("wl-ringmaker");
    uint64_t mask = UINT64_C(1) << (maker.kernel_signal - 1);
    // The raw call: glibc refuses to block its internal signals (32, 33) in application code.
    if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, sizeof mask) != 0) {
        maker_publish(&maker.tid, -errno);
        return NULL;
    }
    maker_publish(&maker.tid, cw_gettid());
    // A pending, blocked broadcast signal means a broadcast has started and waits for this
    // thread: the ring is made then, with the credentials the thread holds before that broadcast.
    struct timespec deadline, left;
    int result = cw_deadline_after(&deadline, MAKER_WAIT_SECONDS);
    while (result == 0) {
        uint64_t pending = 0;
        if (syscall(SYS_rt_sigpending, &pending, sizeof pending) != 0) {
            result = -errno;
        } else if (pending & mask) {
            int handle = cw_ring_create(maker.options);
            result = handle < 0 ? handle : handle + 1;
        } else if (!cw_time_left(&deadline, &left)) {
            result = -ETIMEDOUT;
        } else {
            cw_sleep_ns(MAKER_POLL_NS);
        }
    }
    maker_publish(&maker.result, result);
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &mask, NULL, sizeof mask);  // the broadcast goes on
    for (;;) pause();
    return NULL;
}

int cw_start_ring_maker(int kernel_signal, int options) {
    if (kernel_signal < 1 || kernel_signal > 64) return -EINVAL;
    if (__atomic_load_n(&maker.tid, __ATOMIC_ACQUIRE) != 0) return -EBUSY;
    maker.kernel_signal = kernel_signal;
    maker.options = options;
    pthread_t thread;
    int rc = cw_spawn(&thread, maker_main, NULL, CW_STACK_BYTES, 1);
    return rc != 0 ? rc : maker_await(&maker.tid);
}

int cw_ring_maker_result(void) {
    int result = maker_await(&maker.result);
    return result > 0 ? result - 1 : result;
}
