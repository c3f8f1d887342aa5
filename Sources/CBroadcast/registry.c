// The registry of known threads (slots, a tid hash), the process-wide lock,
// and what keeps both right across fork and vfork. The registry lives in
// memory reserved once (mmap) and committed with mprotect, so growing it while
// threads are held calls no allocator (I6).
#define _GNU_SOURCE
#include "engine.h"

#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

CB_HIDDEN struct engine cb_g = {.task_fd = -1, .last_pid_fd = -1};

#define PAGE_BYTES 4096
#define FIRST_CAPACITY 256
#define FIRST_HASH_SIZE 1024

// ---- memory ---------------------------------------------------------------------

static void *reserve(size_t bytes) {
    long p = cb_sys6(SYS_mmap, 0, (long)bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p < 0 && p > -4096 ? NULL : (void *)p;
}

// Commits the first `bytes` of a reserved region (a syscall, safe while threads are held).
static long commit(void *base, size_t bytes) {
    size_t len = (bytes + PAGE_BYTES - 1) & ~(size_t)(PAGE_BYTES - 1);
    return cb_sys3(SYS_mprotect, base, len, PROT_READ | PROT_WRITE);
}

// ---- name hash ------------------------------------------------------------------
//
// Keyed by the name a listing of /proc/self/task gives (the tid in /proc's namespace).

static uint32_t hash_index(int32_t name, uint32_t size) { return ((uint32_t)name * 2654435761u) & (size - 1); }

static void hash_insert(int32_t name, uint32_t idx) {
    uint32_t h = hash_index(name, cb_g.hash_size);
    while (cb_g.hash[h]) h = (h + 1) & (cb_g.hash_size - 1);
    cb_g.hash[h] = idx + 1;
}

static long hash_rebuild(uint32_t need) {
    uint32_t size = FIRST_HASH_SIZE;
    while (size < need * 2) size *= 2;
    if (size > cb_g.hash_committed) {
        long r = commit(cb_g.hash, (size_t)size * sizeof *cb_g.hash);
        if (r < 0) return r;
        cb_g.hash_committed = size;
    }
    cb_g.hash_size = size;
    memset(cb_g.hash, 0, (size_t)size * sizeof *cb_g.hash);
    uint32_t count = atomic_load(&cb_g.count);  // own
    for (uint32_t i = 0; i < count; i++) hash_insert(cb_g.slots[i].name, i);
    return 0;
}

long cb_slot_find(int32_t name) {
    for (uint32_t h = hash_index(name, cb_g.hash_size); cb_g.hash[h]; h = (h + 1) & (cb_g.hash_size - 1))
        if (cb_g.slots[cb_g.hash[h] - 1].name == name) return cb_g.hash[h] - 1;
    return -1;
}

long cb_slot_append(int32_t name, int32_t tid) {
    uint32_t count = atomic_load(&cb_g.count);  // own
    if (count == MAX_SLOTS) return -ENOMEM;
    if (count == cb_g.capacity) {
        uint32_t cap = cb_g.capacity ? cb_g.capacity * 2 : FIRST_CAPACITY;
        long r = commit(cb_g.slots, (size_t)cap * sizeof *cb_g.slots);
        if (r < 0) return r;
        cb_g.capacity = cap;
    }
    if ((count + 1) * 2 > cb_g.hash_size) {
        long r = hash_rebuild(count + 1);
        if (r < 0) return r;
    }
    cb_g.slots[count] = (struct slot){.tid = tid, .name = name, .stat_fd = -1};
    hash_insert(name, count);
    atomic_store(&cb_g.count, count + 1);  // publish after the slot is written (handlers bound idx by it); release: pairs with cb_on_signal's load of count
    return count;
}

// Drops the slots of threads that are gone. Runs with no thread held and no
// handler inside (after the drain), so no handler can be looking at a slot that moves.
long cb_compact(void) {
    uint32_t count = atomic_load(&cb_g.count), kept = 0;  // own
    for (uint32_t i = 0; i < count; i++) {
        uint32_t ph = atomic_load(&cb_g.slots[i].state) & 0xff;  // no handler inside (after the drain)
        if (ph == P_GONE || ph == P_DEPARTED || ph == P_DIED) {
            if (cb_g.slots[i].stat_fd >= 0) cb_sys1(SYS_close, cb_g.slots[i].stat_fd);  // opened by this process
            continue;
        }
        if (kept != i) {
            cb_g.slots[kept] = cb_g.slots[i];
            atomic_store(&cb_g.slots[kept].state, 0);  // no handler inside (after the drain)
        }
        kept++;
    }
    if (kept == count) return 0;
    atomic_store(&cb_g.count, kept);  // no handler inside: shrinks, publishes nothing
    return hash_rebuild(kept);
}

// Forgets every thread: after a dead owner, whose registry may be half-updated (it may
// have died inside cb_slot_append or cb_compact). Runs after the drain, so no handler
// is inside. The slots' stat files are left open, not closed: a slot copied half-way by
// cb_compact may name a number twice, and closing it twice could close another file.
long cb_registry_reset(void) {
    atomic_store(&cb_g.count, 0);  // no handler inside: shrinks, publishes nothing
    return hash_rebuild(0);
}

// ---- the lock ---------------------------------------------------------------------

// The lock word names the owning thread. An owner that died holding it (killed inside
// its own step, cancelled) leaves a word whose tid no longer exists in this thread
// group: a waiter takes it over (and cleans up, see cb_registry_reset and protocol.c).
// A child made by fork(), _Fork() or a raw clone while another thread was broadcasting
// inherits a word naming a thread of its parent, which is not in the child's thread
// group either: the same rule takes it over. Death is believed only on ESRCH from
// tgkill, or on a task at the owner's tid that is not the owner (identity, below): a live
// owner that is merely slow (or stopped by a tracer) is never overtaken.
#define LOCK_HELD 1u
#define LOCK_WAITERS 2u
#define LOCK_STATE 3u
// A waiter looks at the owner this often.
#define LOCK_LOOK_NS 10000000LL
static inline uint32_t lock_owner(uint32_t word) { return word >> 2; }

// Identity of the owner (I11, I14): an owner that died inside its broadcast may leave its
// tid to a newborn, and tgkill then never says ESRCH. So an acquirer publishes who it is,
// its tid << START_BITS | an identity value, just before its CAS takes the word (a free one,
// or a dead owner's), and a waiter compares the task now at the owner's tid with it. Why a
// mismatch proves the owner gone: only a thread with tid T ever stores an identity naming
// T, and the owner stored its own before its CAS (seq_cst), which the waiter's load of the
// word saw; so the identity the waiter reads names T only if the owner stored it or a
// later thread with tid T did, and a later one exists only once the owner is gone. An
// identity naming another tid (a contender that lost the CAS stored last) decides nothing.
//
// The value is the thread's pidfs inode number (Linux 6.9+, PIDFD_THREAD), flagged
// IDENT_PIDFS: the kernel numbers every struct pid from one 64-bit counter, so two tasks
// never share one, and a pidfd_open, an fstat and a close (no /proc path, no text to
// generate) cost 3 us for a new thread against 8 us for /proc/thread-self/stat (12 against
// 30 us in a fresh process). It needs no /proc: it works under a Landlock domain that
// denies /proc and under /proc of an ancestor PID namespace (pidfd_open takes our tids).
// Where pidfd_open refuses (an older kernel, a seccomp filter), the value is the thread's
// starttime (stat field 22), as before. Values of the two kinds never compare equal.
#define START_BITS 42
#define START_MASK ((1ull << START_BITS) - 1)
#define IDENT_PIDFS (1ull << (START_BITS - 1))
#define PIDFD_THREAD_FLAG O_EXCL  // PIDFD_THREAD (Linux 6.9)
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434  // Linux 5.3, the same number on x86_64 and aarch64
#endif
static _Atomic uint64_t owner_identity;
// This thread's identity, read once per thread (a fork child's thread has another tid, so
// the cached one is read again there).
static __thread __attribute__((tls_model("initial-exec"))) uint64_t my_identity;

// IDENT_PIDFS | the pidfs inode number of the thread `tid` of this process, or 0 when
// unknown (no such thread, pidfd_open refused, a number too large to flag).
static uint64_t pidfs_identity(uint32_t tid) {
    long fd = cb_sys2(SYS_pidfd_open, tid, PIDFD_THREAD_FLAG);
    if (fd < 0) return 0;
    struct stat st;
    long r = cb_sys2(SYS_fstat, fd, &st);
    cb_sys1(SYS_close, fd);  // opened just now: ours to close
    return r == 0 && st.st_ino > 0 && st.st_ino < IDENT_PIDFS ? IDENT_PIDFS | st.st_ino : 0;
}

static uint64_t identity_of_me(uint32_t tid) {
    if (my_identity >> START_BITS == tid) return my_identity;
    uint64_t value = pidfs_identity(tid);
    if (!value && (cb_proc_start(AT_FDCWD, "/proc/thread-self/stat", &value) < 0 || value >= IDENT_PIDFS)) return 0;  // unknown
    my_identity = (uint64_t)tid << START_BITS | value;
    return my_identity;
}

// `identify`: also compare the task at the owner's tid with the owner's identity (a pidfd or
// a /proc read); without it only ESRCH is believed (one cheap syscall).
static bool owner_dead(uint32_t word, bool identify) {
    uint32_t owner = lock_owner(word);
    if (cb_sys3(SYS_tgkill, cb_sys0(SYS_getpid), owner, 0) == -ESRCH) return true;
    if (!identify) return false;
    // Seq_cst load: sees the owner's store before its CAS (or a later one), see above.
    uint64_t id = atomic_load(&owner_identity);  // acquire: pairs with the owner's store before its CAS
    if (id >> START_BITS != owner || (id & START_MASK) == 0) return false;
    if (id & IDENT_PIDFS) {
        uint64_t now = pidfs_identity(owner);
        return now != 0 && now != (id & START_MASK);  // I11: another task holds its tid
    }
    // Under /proc of an ancestor namespace, /proc/self/task/<tid> is not the tid's (I15).
    if (cb_g.translate) return false;
    char path[48] = "/proc/self/task/";
    char *p = path + 16, digits[12];
    int n = 0;
    do digits[n++] = (char)('0' + owner % 10); while ((owner /= 10) > 0);
    while (n > 0) *p++ = digits[--n];
    memcpy(p, "/stat", 6);
    uint64_t start;
    long r = cb_proc_start(AT_FDCWD, path, &start);
    return r == -ENOENT || (r == 0 && start != (id & START_MASK));  // I11: another task holds its tid
}

enum lock_outcome cb_lock_acquire(int64_t deadline) {
    uint32_t me = (uint32_t)cb_sys0(SYS_gettid) << 2, taken = me | LOCK_HELD;
    // The owner is looked at when the word names another owner (ESRCH only: a fork child's
    // inherited word is taken over at once) and after each LOCK_LOOK_NS the same word is
    // held (identity too). Not on every wake-up: the owner's own broadcast signals this
    // thread, and each delivery ends the futex wait early (EINTR); a dead owner's word
    // never changes, so it is still looked at fully every LOCK_LOOK_NS (I11).
    uint32_t looked = 0;
    int64_t identify_at = 0;
    for (;;) {
        uint32_t c = atomic_load(&cb_g.lock);  // acquire: pairs with cb_lock_release's exchange
        if (c == 0) {
            atomic_store(&owner_identity, identity_of_me(me >> 2));  // before the CAS: see owner_dead; release: read by owner_dead after it loads the word
            if (atomic_compare_exchange_strong(&cb_g.lock, &c, taken)) return LOCK_TAKEN;  // acquire: pairs with cb_lock_release's exchange
            continue;
        }
        // Our own tid: a signal handler broadcasting while it interrupted this thread's
        // broadcast. Waiting would wait for ourselves; taking over would corrupt the
        // broadcast that resumes when the handler returns.
        // Unless the identity names our tid with another value: then a thread that had our
        // tid before us died holding the lock (we never stored since, or it would be ours).
        if (lock_owner(c) == me >> 2) {
            uint64_t mine = identity_of_me(me >> 2), id = atomic_load(&owner_identity);  // acquire: pairs with the store before the owner's CAS
            if (!mine || id >> START_BITS != me >> 2 || (id & START_MASK) == 0 || id == mine) return LOCK_NESTED;
            atomic_store(&owner_identity, mine);  // release: read by owner_dead after it loads the word
            if (atomic_compare_exchange_strong(&cb_g.lock, &c, me | LOCK_WAITERS)) return LOCK_TAKEN_OVER;  // I11; acquire: the dead owner released nothing (its exit orders its writes)
            continue;
        }
        int64_t now = cb_now_ns();
        bool fresh = lock_owner(c) != lock_owner(looked), identify = !fresh && now >= identify_at;
        if (fresh || identify) looked = c, identify_at = now + LOCK_LOOK_NS;
        if ((fresh || identify) && owner_dead(c, identify)) {  // I11: a dead owner's word is taken over, through a CAS from it
            atomic_store(&owner_identity, identity_of_me(me >> 2));  // before the CAS: see owner_dead; release: read by owner_dead after it loads the word
            if (atomic_compare_exchange_strong(&cb_g.lock, &c, me | LOCK_WAITERS)) return LOCK_TAKEN_OVER;  // acquire: the dead owner released nothing (its exit orders its writes)
            continue;
        }
        // Once anyone has waited, take the lock as "held with waiters" so that
        // the release wakes the next one.
        taken = me | LOCK_WAITERS;
        if ((c & LOCK_STATE) == LOCK_HELD && !atomic_compare_exchange_strong(&cb_g.lock, &c, (c & ~LOCK_STATE) | LOCK_WAITERS)) continue;  // only the waiters bit: publishes nothing
        if (now >= deadline) return LOCK_BUSY;  // I1
        int64_t until = deadline - now > LOCK_LOOK_NS ? now + LOCK_LOOK_NS : deadline;
        cb_futex_wait(&cb_g.lock, (c & ~LOCK_STATE) | LOCK_WAITERS, until);
    }
}

void cb_lock_release(void) {
    if ((atomic_exchange(&cb_g.lock, 0) & LOCK_STATE) == LOCK_WAITERS) cb_futex_wake(&cb_g.lock, 1);  // release: publishes the owner's writes; pairs with the taking CAS
}

// ---- fork and vfork -----------------------------------------------------------------

// One page that the kernel wipes in a fork child (MADV_WIPEONFORK) but shares
// with a vfork child, which runs in its parent's memory: it names the process
// that owns the engine's memory. A vfork child that broadcast would rewrite its
// parent's registry and lock, so it is refused.
static _Atomic int32_t *owner_marker;

__attribute__((constructor)) static void mark_owner(void) {
    void *p = mmap(NULL, PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    if (madvise(p, PAGE_BYTES, MADV_WIPEONFORK) != 0) {  // before Linux 4.14: no vfork detection
        munmap(p, PAGE_BYTES);
        return;
    }
    owner_marker = p;
    atomic_store(owner_marker, (int32_t)cb_sys0(SYS_getpid));  // this process only: orders nothing
}

long cb_vfork_check(void) {
    if (!owner_marker) return 0;
    int32_t owner = atomic_load(owner_marker);  // this process only: orders nothing
    if (owner == 0 || owner == (int32_t)cb_sys0(SYS_getpid)) return 0;  // 0: a fork child's wiped copy
    // Our memory names another live process: our parent, if we are its vfork child.
    return owner == (int32_t)cb_sys0(SYS_getppid) ? -EPERM : 0;
}

static void reset_after_fork(void) {
    atomic_store(&cb_g.lock, 0);  // fork child: one thread, orders nothing
    atomic_store(&cb_g.live_gen, 0);  // fork child: one thread, orders nothing
    cb_g.pid = 0;
    if (owner_marker) atomic_store(owner_marker, (int32_t)cb_sys0(SYS_getpid));  // this process only: orders nothing
}

static void register_atfork(void) { pthread_atfork(NULL, NULL, reset_after_fork); }

// ---- setup ------------------------------------------------------------------------------

// Whether /proc is a procfs mount (PROC_SUPER_MAGIC): then a missing /proc/self means it
// belongs to a PID namespace this process is not in (a sibling's, or a descendant's).
static bool proc_mounted(void) {
    struct statfs fs;
    return cb_sys2(SYS_statfs, "/proc", &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

// Whether /proc/self/task (open at `task_fd`) names our threads by our own tids. A PID
// namespace made without a /proc of its own (`unshare --pid --fork`, no --mount-proc) sees
// the /proc of an ancestor namespace: /proc/self still is this process, but it lists each
// thread under its id in that ancestor, which tgkill and gettid() do not know. The NSpid
// line of our status names us in every namespace from /proc's down to ours: more than one
// field, and every listed thread is translated (registry: slot.name vs slot.tid). Its last
// field must be getpid(), or the directory is not ours.
static long names_or_tids(int task_fd, pid_t pid) {
    int levels = 1;
    long own = cb_proc_ns_tid(task_fd, "../status", &levels);
    if (own == -ENODATA) own = pid;  // before Linux 4.1: no NSpid line, nor a way to translate
    if (own < 0) return own;
    if (own != pid) return SETUP_PROC_ELSEWHERE;  // I15
    cb_g.translate = levels > 1;  // I15
    return 0;
}

// Opens /proc/self/task for this process and forgets another process's threads
// (I7: reset on a pid change, whatever made the child). Runs under the lock,
// before any thread is signalled, so it may allocate.
long cb_setup(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_atfork);
    pid_t pid = (pid_t)cb_sys0(SYS_getpid);
    if (cb_g.pid == pid) return 0;
    if (!cb_g.slots) {
        cb_g.slots = reserve((size_t)MAX_SLOTS * sizeof *cb_g.slots);
        cb_g.hash = reserve((size_t)HASH_MAX * sizeof *cb_g.hash);
        if (!cb_g.slots || !cb_g.hash) return -ENOMEM;
    }
    // A new secret per process: a forked child does not share its parent's tokens.
    long got = cb_sys3(SYS_getrandom, &cb_g.secret, sizeof cb_g.secret, 0);
    if (got != (long)sizeof cb_g.secret) return got < 0 ? got : -EIO;
    // A task_fd here was opened by another process (we are its fork child). The number
    // is not closed: the child may have closed it and reused it for a file of its own
    // (daemons close inherited descriptors). The inherited copy, if still open, is
    // O_CLOEXEC and stays until exec: one descriptor per process generation.
    cb_g.task_fd = -1;  // I7: never closed here
    cb_g.last_pid_fd = -1;
    atomic_store(&cb_g.live_gen, 0);  // release: pairs with cb_on_signal's load (no claim of the old registry)
    atomic_store(&cb_g.count, 0);  // no handler inside: shrinks, publishes nothing
    long r = hash_rebuild(0);
    if (r < 0) return r;
    // Opened once and kept: still usable after a Landlock restriction that
    // would forbid opening it again (the failure libpsx had).
    long fd = cb_sys4(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return fd == -ENOENT && proc_mounted() ? SETUP_PROC_ELSEWHERE : fd;  // I15
    r = names_or_tids((int)fd, pid);
    if (r < 0) {
        cb_sys1(SYS_close, fd);  // opened just now: ours to close
        return r;
    }
    cb_g.task_fd = (int)fd;
    // The last pid the namespace handed out: a tid can be reused during a broadcast only
    // if pids were handed out meanwhile (I14). Unreadable (no /proc/sys): every thread
    // that ran the call in relaxed mode is then proven by its starttime instead.
    fd = cb_sys4(SYS_openat, AT_FDCWD, "/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC, 0);
    cb_g.last_pid_fd = fd < 0 ? -1 : (int)fd;
    long hz = sysconf(_SC_CLK_TCK);
    cb_g.tick_ns = hz > 0 ? 1000000000 / hz : 10000000;
    cb_g.pid = pid;
    if (owner_marker) atomic_store(owner_marker, pid);  // this process only: orders nothing
    return 0;
}
