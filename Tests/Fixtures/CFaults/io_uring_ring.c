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
#include <poll.h>
#include <sched.h>
#include <pthread.h>
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
/// How often a wait for a completion looks at a ring that has no fd left to wait on.
#define COMPLETION_POLL_NS 1000000L
/// How long the SQPOLL thread of an attached ring polls before it sleeps: once asleep, only
/// io_uring_enter on a ring fd wakes it, and the attached ring's fd is closed.
#define ATTACHED_IDLE_MS 20000
/// user_data of the scenarios' requests.
#define DRAIN_POLL_DATA 1
#define DRAINED_OPEN_DATA 2
#define SELF_POLL_DATA 3
#define SUBMITTED_OPEN_DATA 4

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
    int personality;    // registered by cw_ring_create_on_exiting_thread, 0 if none
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

/// A ring with `options`; attached to the SQPOLL thread of the ring `attach_fd` when >= 0;
/// its SQPOLL thread (if it makes one) idles after `idle_ms`.
static int create(int options, int attach_fd, unsigned idle_ms) {
    int handle = 0;
    while (handle < RING_MAX && rings[handle].in_use) handle++;
    if (handle == RING_MAX) return -EMFILE;
    struct ring *r = &rings[handle];
    memset(r, 0, sizeof *r);
    r->fd = -1;
    r->slot = -1;
    if (options & CW_RING_SQPOLL) {
        r->flags |= IORING_SETUP_SQPOLL;
        r->params.sq_thread_idle = idle_ms;
    }
    if (attach_fd >= 0) {
        r->flags |= IORING_SETUP_ATTACH_WQ;
        r->params.wq_fd = (unsigned)attach_fd;
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

int cw_ring_create(int options) { return create(options, -1, SQPOLL_IDLE_MS); }

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

/// The next free SQE of `r`, zeroed; published by publish().
static struct io_uring_sqe *next_sqe(struct ring *r) {
    struct io_uring_params *p = &r->params;
    _Atomic uint32_t *sq_tail = (_Atomic uint32_t *)(r->sq + p->sq_off.tail);
    uint32_t sq_mask = *(uint32_t *)(r->sq + p->sq_off.ring_mask);
    uint32_t index = atomic_load_explicit(sq_tail, memory_order_relaxed) & sq_mask;
    struct io_uring_sqe *sqe = &r->sqes[index];
    memset(sqe, 0, sizeof *sqe);
    return sqe;
}

/// Publishes the SQE next_sqe() returned: after this an SQPOLL thread may submit it at once.
static void publish(struct ring *r) {
    struct io_uring_params *p = &r->params;
    _Atomic uint32_t *sq_tail = (_Atomic uint32_t *)(r->sq + p->sq_off.tail);
    uint32_t sq_mask = *(uint32_t *)(r->sq + p->sq_off.ring_mask);
    uint32_t *array = (uint32_t *)(r->sq + p->sq_off.array);
    uint32_t tail = atomic_load_explicit(sq_tail, memory_order_relaxed);
    array[tail & sq_mask] = tail & sq_mask;
    // The SQE must be visible before the tail that publishes it (an SQPOLL thread reads it at once).
    atomic_store_explicit(sq_tail, tail + 1, memory_order_release);
}

static void prep_openat(struct io_uring_sqe *sqe, const char *path, int personality, uint64_t user_data) {
    sqe->opcode = IORING_OP_OPENAT;
    sqe->fd = AT_FDCWD;
    sqe->addr = (uint64_t)(uintptr_t)path;
    sqe->open_flags = O_RDONLY | O_CLOEXEC;
    sqe->personality = (uint16_t)personality;
    sqe->user_data = user_data;
}

static void prep_poll(struct io_uring_sqe *sqe, int fd, uint64_t user_data) {
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = fd;
    sqe->poll32_events = POLLIN;
    sqe->user_data = user_data;
}

/// The result of the completion `user_data`, waiting for it until the deadline: through
/// io_uring_enter while the ring has an fd or a slot, else by looking at the CQ ring in memory
/// (an SQPOLL ring whose fd is closed). Other completions are consumed. -ETIMEDOUT if none came.
static int reap(struct ring *r, uint64_t user_data) {
    struct io_uring_params *p = &r->params;
    _Atomic uint32_t *cq_head = (_Atomic uint32_t *)(r->cq + p->cq_off.head);
    _Atomic uint32_t *cq_tail = (_Atomic uint32_t *)(r->cq + p->cq_off.tail);
    uint32_t cq_mask = *(uint32_t *)(r->cq + p->cq_off.ring_mask);
    struct io_uring_cqe *cqes = (struct io_uring_cqe *)(r->cq + p->cq_off.cqes);
    struct timespec deadline, left;
    int rc = ts_deadline_after(&deadline, COMPLETION_SECONDS);
    if (rc != 0) return rc;
    for (;;) {
        uint32_t head = atomic_load_explicit(cq_head, memory_order_relaxed);
        while (head != atomic_load_explicit(cq_tail, memory_order_acquire)) {
            struct io_uring_cqe cqe = cqes[head & cq_mask];
            atomic_store_explicit(cq_head, ++head, memory_order_release);
            if (cqe.user_data == user_data) return cqe.res;
        }
        if (!ts_time_left(&deadline, &left)) return -ETIMEDOUT;
        if (r->fd < 0 && r->slot < 0) {
            cw_sleep_ns(COMPLETION_POLL_NS);
            continue;
        }
        struct __kernel_timespec timeout = {.tv_sec = left.tv_sec, .tv_nsec = left.tv_nsec};
        struct io_uring_getevents_arg arg = {.ts = (uint64_t)(uintptr_t)&timeout};
        if (enter(r, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg) < 0 && errno != ETIME && errno != EINTR)
            return -errno;
    }
}

int cw_ring_openat(int handle, const char *path, int personality) {
    struct ring *r = ring_at(handle);
    if (!r) return -EBADF;
    prep_openat(next_sqe(r), path, personality, 0);
    publish(r);
    int sqpoll = (r->flags & IORING_SETUP_SQPOLL) != 0;
    // With SQPOLL the kernel thread submits: wake it in case it went idle; to_submit is ignored.
    if (enter(r, sqpoll ? 0 : 1, 0, sqpoll ? IORING_ENTER_SQ_WAKEUP : 0, NULL, 0) < 0) return -errno;
    int result = reap(r, 0);
    if (result < 0) return result;
    close(result);  // the file opened through the ring: only whether it opened matters
    return 0;
}

int cw_ring_queue_drained_openat(int handle, int poll_fd, const char *path) {
    struct ring *r = ring_at(handle);
    if (!r || r->fd < 0 || (r->flags & IORING_SETUP_SQPOLL)) return -EBADF;
    prep_poll(next_sqe(r), poll_fd, DRAIN_POLL_DATA);
    publish(r);
    struct io_uring_sqe *sqe = next_sqe(r);
    prep_openat(sqe, path, 0, DRAINED_OPEN_DATA);
    sqe->flags = IOSQE_IO_DRAIN;  // runs only once the poll has completed
    publish(r);
    long submitted = syscall(SYS_io_uring_enter, r->fd, 2, 0, 0, NULL, 0);
    if (submitted < 0) return -errno;
    return submitted == 2 ? 0 : -EAGAIN;
}

int cw_ring_drained_openat_result(int handle) {
    struct ring *r = ring_at(handle);
    if (!r) return -EBADF;
    int result = reap(r, DRAINED_OPEN_DATA);
    if (result >= 0) {
        close(result);
        return 0;
    }
    return result;
}

static void maker_publish(int *word, int value);
static int maker_await(int *word);

// ---- rings made by threads that are gone ------------------------------------------

/// What a ring-making thread is asked to do, and what it did.
struct making {
    int options;
    int want_personality;
    int attach_handle;     // -1, or the ring whose SQPOLL thread the new ring joins
    uid_t uid;             // 0, or the uid (and gid) the thread switches to, alone, first
    int handle;            // out: the handle or -errno
};

/// Switches the calling thread alone (raw system calls, not glibc's process-wide ones) to `uid`,
/// with gid and one supplementary group of the same number (as nobody/nogroup).
static int become(uid_t uid) {
    gid_t group = (gid_t)uid;
    if (syscall(SYS_setgroups, 1, &group) != 0) return -errno;
    if (syscall(SYS_setresgid, uid, uid, uid) != 0) return -errno;
    if (syscall(SYS_setresuid, uid, uid, uid) != 0) return -errno;
    return 0;
}

static void *making_main(void *argument) {
    struct making *m = argument;
    ts_set_name("wl-ringmade");
    if (m->uid != 0 && (m->handle = become(m->uid)) != 0) return NULL;
    int attach_fd = m->attach_handle >= 0 ? cw_ring_fd(m->attach_handle) : -1;
    m->handle = create(m->options, attach_fd, m->attach_handle >= 0 ? ATTACHED_IDLE_MS : SQPOLL_IDLE_MS);
    if (m->handle >= 0 && m->want_personality) {
        int id = cw_ring_register_personality(m->handle);
        if (id < 0) {
            cw_ring_release(m->handle);
            m->handle = id;
        } else {
            rings[m->handle].personality = id;
        }
    }
    return NULL;
}

/// Runs making_main on a new thread and waits for it to exit (and so for its io_uring context to end).
static int make_elsewhere(struct making *m) {
    pthread_t thread;
    int rc = ts_spawn(&thread, making_main, m, TS_STACK_BYTES, 0);
    if (rc != 0) return rc;
    pthread_join(thread, NULL);
    return m->handle;
}

int cw_ring_create_on_exiting_thread(int options, int personality) {
    struct making m = {.options = options, .want_personality = personality, .attach_handle = -1};
    return make_elsewhere(&m);
}

int cw_ring_personality(int handle) {
    struct ring *r = ring_at(handle);
    return r ? r->personality : -EBADF;
}

int cw_ring_attached_behind_sqpoll_of(unsigned uid) {
    // Ring A: SQPOLL, made by a thread that holds `uid` alone; its SQPOLL thread takes that uid.
    struct making a = {.options = CW_RING_SQPOLL, .attach_handle = -1, .uid = uid};
    int first = make_elsewhere(&a);
    if (first < 0) return first;
    // Ring B: made by a thread with the caller's credentials, served by A's SQPOLL thread, in user memory.
    struct making b = {.options = CW_RING_SQPOLL | CW_RING_USER_MEMORY, .attach_handle = first};
    int second = make_elsewhere(&b);
    if (second < 0) return second;
    struct ring *r = &rings[second];
    // A poll of B on B's own fd keeps B alive once every fd is closed.
    prep_poll(next_sqe(r), r->fd, SELF_POLL_DATA);
    publish(r);
    _Atomic uint32_t *sq_head = (_Atomic uint32_t *)(r->sq + r->params.sq_off.head);
    _Atomic uint32_t *sq_tail = (_Atomic uint32_t *)(r->sq + r->params.sq_off.tail);
    struct timespec deadline, left;
    int rc = ts_deadline_after(&deadline, COMPLETION_SECONDS);
    if (rc != 0) return rc;
    // The SQPOLL thread must have taken the poll (and looked its fd up) before the fd closes.
    while (atomic_load_explicit(sq_head, memory_order_acquire) != atomic_load_explicit(sq_tail, memory_order_relaxed)) {
        if (!ts_time_left(&deadline, &left)) return -ETIMEDOUT;
        syscall(SYS_io_uring_enter, r->fd, 0, 0, IORING_ENTER_SQ_WAKEUP, NULL, 0);
        cw_sleep_ns(COMPLETION_POLL_NS);
    }
    cw_ring_release(first);
    cw_ring_close_fd(second);
    return second;
}

int cw_ring_submit_openat(int handle, const char *path) {
    struct ring *r = ring_at(handle);
    if (!r) return -EBADF;
    // Only a write to memory: the SQPOLL thread, still polling, submits it.
    prep_openat(next_sqe(r), path, 0, SUBMITTED_OPEN_DATA);
    publish(r);
    int result = reap(r, SUBMITTED_OPEN_DATA);
    if (result >= 0) {
        close(result);
        return 0;
    }
    return result;
}

// ---- a ring in a thread's own descriptor table --------------------------------------

/// The thread with a table of its own, its ring and its futex words.
static struct {
    int tid;        // futex word: 0 until ready, then the tid or -errno
    int handle;
    int request;    // futex word: requests counted up by the caller
    int served;     // futex word: requests served
    const char *path;
    int result;
} owner;

static void *owner_main(void *unused) {
    (void)unused;
    ts_set_name("wl-owntable");
    // A table of its own; a ring made by a thread it starts (which shares that table) and exits.
    if (unshare(CLONE_FILES) != 0) {
        maker_publish(&owner.tid, -errno);
        return NULL;
    }
    owner.handle = cw_ring_create_on_exiting_thread(0, 1);
    maker_publish(&owner.tid, owner.handle < 0 ? owner.handle : ts_gettid());
    for (int served = 0;;) {
        int request = __atomic_load_n(&owner.request, __ATOMIC_ACQUIRE);
        if (request == served) {
            ts_futex(&owner.request, FUTEX_WAIT_PRIVATE, served, NULL);
            continue;
        }
        owner.result = cw_ring_openat(owner.handle, owner.path, rings[owner.handle].personality);
        maker_publish(&owner.served, ++served);
    }
    return NULL;
}

int cw_start_own_table_ring(void) {
    if (__atomic_load_n(&owner.tid, __ATOMIC_ACQUIRE) != 0) return -EBUSY;
    pthread_t thread;
    int rc = ts_spawn(&thread, owner_main, NULL, TS_STACK_BYTES, 1);
    return rc != 0 ? rc : maker_await(&owner.tid);
}

int cw_own_table_ring_fd(void) { return owner.handle >= 0 ? cw_ring_fd(owner.handle) : owner.handle; }

int cw_own_table_openat(const char *path) {
    if (__atomic_load_n(&owner.tid, __ATOMIC_ACQUIRE) <= 0) return -ESRCH;
    owner.path = path;
    int request = __atomic_add_fetch(&owner.request, 1, __ATOMIC_RELEASE);
    ts_futex(&owner.request, FUTEX_WAKE_PRIVATE, 1, NULL);
    struct timespec deadline, left;
    int rc = ts_deadline_after(&deadline, MAKER_WAIT_SECONDS);
    if (rc != 0) return rc;
    int served;
    while ((served = __atomic_load_n(&owner.served, __ATOMIC_ACQUIRE)) != request) {
        if (!ts_time_left(&deadline, &left)) return -ETIMEDOUT;
        ts_futex(&owner.served, FUTEX_WAIT_PRIVATE, served, &left);
    }
    return owner.result;
}

// ---- a ring made while a broadcast waits ---------------------------------------

/// The one ring maker of the process: its futex words and parameters.
static struct {
    int tid;     // futex word: 0 until the mask is set, then the tid or -errno
    int result;  // futex word: 0 until done, then the handle + 1 or -errno
    int kernel_signal;
    int options;
    int skip;    // broadcasts to let pass before the one the ring is made in
} maker;

static void maker_publish(int *word, int value) {
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
    ts_futex(word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

static int maker_await(int *word) {
    struct timespec deadline, left;
    int rc = ts_deadline_after(&deadline, MAKER_WAIT_SECONDS);
    if (rc != 0) return rc;
    int value;
    while ((value = __atomic_load_n(word, __ATOMIC_ACQUIRE)) == 0) {
        if (!ts_time_left(&deadline, &left)) return -ETIMEDOUT;
        ts_futex(word, FUTEX_WAIT_PRIVATE, 0, &left);  // EINTR/EAGAIN/ETIMEDOUT: look again
    }
    return value;
}

static void *maker_main(void *unused) {
    (void)unused;
    ts_set_name("wl-ringmaker");
    uint64_t mask = UINT64_C(1) << (maker.kernel_signal - 1);
    // The raw call: glibc refuses to block its internal signals (32, 33) in application code.
    if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, sizeof mask) != 0) {
        maker_publish(&maker.tid, -errno);
        return NULL;
    }
    maker_publish(&maker.tid, ts_gettid());
    // A pending, blocked broadcast signal means a broadcast has started and waits for this
    // thread: the ring is made then, with the credentials the thread holds before that broadcast.
    struct timespec deadline, left;
    int result = ts_deadline_after(&deadline, MAKER_WAIT_SECONDS);
    while (result == 0) {
        uint64_t pending = 0;
        if (syscall(SYS_rt_sigpending, &pending, sizeof pending) != 0) {
            result = -errno;
        } else if ((pending & mask) && maker.skip > 0) {
            // Let this broadcast reach the thread (the handler runs as the signal unblocks), then wait for the next.
            maker.skip--;
            syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &mask, NULL, sizeof mask);
            if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, &mask, NULL, sizeof mask) != 0) result = -errno;
        } else if (pending & mask) {
            int handle = cw_ring_create(maker.options);
            result = handle < 0 ? handle : handle + 1;
        } else if (!ts_time_left(&deadline, &left)) {
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

int cw_start_ring_maker(int kernel_signal, int options, int skip) {
    if (kernel_signal < 1 || kernel_signal > 64) return -EINVAL;
    if (__atomic_load_n(&maker.tid, __ATOMIC_ACQUIRE) != 0) return -EBUSY;
    maker.kernel_signal = kernel_signal;
    maker.options = options;
    maker.skip = skip;
    pthread_t thread;
    int rc = ts_spawn(&thread, maker_main, NULL, TS_STACK_BYTES, 1);
    return rc != 0 ? rc : maker_await(&maker.tid);
}

int cw_ring_maker_result(void) {
    int result = maker_await(&maker.result);
    return result > 0 ? result - 1 : result;
}
