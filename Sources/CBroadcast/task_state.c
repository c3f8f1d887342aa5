// One task's state from its /proc status file (and its stat file when it may be an io_uring
// task), read and parsed without an allocation: the fast path of a drop's per-thread proof (AllThreads' ThreadState has the
// full reader, which this one never replaces as the judge of a malformed file).
//
// Why it is cheap: the files are opened relative to a task directory the caller keeps open
// (no path walk from /), read with one read each into the caller's buffer, and only the
// lines the proof reads are parsed, in one pass. What it reads is still the kernel's view of
// that task (its credentials as the kernel renders them), never the engine's bookkeeping.
//
// Why it is safe to trust: a field is taken only at the start of a line, every line must be
// `Key:value`, and a key the proof reads must appear exactly once. A hostile thread name
// cannot forge a line: the kernel writes a newline in `Name:` as `\n`. Anything the parser
// does not expect is -EBADMSG, and the caller then reads the file with the full parser,
// which names what is wrong: this reader may only ever say less, never something else.
#define _GNU_SOURCE
#include "CBroadcast.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>

// `SigBlk:` of a task that blocks every signal it can: all but SIGKILL and SIGSTOP.
#define EVERY_BLOCKABLE_SIGNAL (~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1))))

// The lines read, by their index in `keys` (one bit each in `seen`).
enum { K_NAME, K_STATE, K_UID, K_GID, K_GROUPS, K_CAPINH, K_CAPPRM, K_CAPEFF, K_CAPBND, K_CAPAMB,
       K_NNP, K_SECCOMP, K_SIGBLK, K_CPUS, K_VOLUNTARY, K_INVOLUNTARY, K_COUNT };
static const char *const keys[K_COUNT] = {
    "Name", "State", "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
    "NoNewPrivs", "Seccomp", "SigBlk", "Cpus_allowed_list", "voluntary_ctxt_switches",
    "nonvoluntary_ctxt_switches",
};
// Lines a status file of every supported kernel has (Linux 5.x on); the others may be absent.
#define REQUIRED ((1u << K_NAME) | (1u << K_STATE) | (1u << K_UID) | (1u << K_GID) | (1u << K_GROUPS) | \
                  (1u << K_CAPINH) | (1u << K_CAPPRM) | (1u << K_CAPEFF) | (1u << K_CAPBND) |         \
                  (1u << K_CAPAMB) | (1u << K_NNP) | (1u << K_SECCOMP) | (1u << K_SIGBLK))

// A decimal number of at most `max` from `*p`; advances past it. False unless a digit was read.
static bool decimal(const char **p, const char *end, uint64_t max, uint64_t *out) {
    const char *s = *p;
    uint64_t v = 0;
    for (; s < end && *s >= '0' && *s <= '9'; s++) {
        if (v > (max - (uint64_t)(*s - '0')) / 10) return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (s == *p) return false;
    *p = s;
    *out = v;
    return true;
}

// Exactly 16 hex digits, the whole value.
static bool mask(const char *p, const char *end, uint64_t *out) {
    if (p < end && *p == '\t') p++;
    if (end - p != 16) return false;
    uint64_t v = 0;
    for (; p < end; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0) return false;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return true;
}

// `\tA\tB\tC\tD`: four ids.
static bool four_ids(const char *p, const char *end, uint32_t out[4]) {
    for (int i = 0; i < 4; i++) {
        uint64_t v;
        if (p >= end || *p++ != '\t' || !decimal(&p, end, UINT32_MAX, &v)) return false;
        out[i] = (uint32_t)v;
    }
    return p == end;
}

// One number, the whole value after a tab.
static bool single(const char *p, const char *end, uint64_t max, uint64_t *out) {
    if (p >= end || *p++ != '\t') return false;
    return decimal(&p, end, max, out) && p == end;
}

// `Name:\t` and the kernel's escapes: `\n` newline, `\\` backslash, any other byte as it is.
static bool name(const char *p, const char *end, char out[CB_TASK_NAME_SIZE]) {
    if (p >= end || *p++ != '\t') return false;
    size_t n = 0;
    for (; p < end; p++) {
        char c = *p;
        if (c == '\\' && p + 1 < end && (p[1] == 'n' || p[1] == '\\')) c = *++p == 'n' ? '\n' : '\\';
        if (c == 0 || n + 1 >= CB_TASK_NAME_SIZE) return false;
        out[n++] = c;
    }
    out[n] = 0;
    return true;
}

// `\tG G G ` (groups apart by one space, and one space after the last, none or not): the
// count, and the first `capacity` groups.
static bool group_list(const char *p, const char *end, uint32_t *groups, uint32_t capacity, uint32_t *count) {
    if (end - p < 2 || *p++ != '\t' || *--end != ' ') return false;
    uint32_t n = 0;
    while (p < end) {
        uint64_t v;
        if ((n > 0 && *p++ != ' ') || !decimal(&p, end, UINT32_MAX, &v)) return false;
        if (n < capacity) groups[n] = (uint32_t)v;
        n++;
    }
    *count = n;
    return true;
}

// Parses the value of line `key` into `out`.
static bool field(int key, const char *p, const char *end, const char *buf, uint32_t *groups, uint32_t capacity,
                  cb_task_state *out) {
    uint64_t v;
    switch (key) {
    case K_NAME: return name(p, end, out->name);
    case K_STATE:
        if (end - p < 2 || p[0] != '\t' || !((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z'))) return false;
        out->state = p[1];
        return true;
    case K_UID: return four_ids(p, end, out->uids);
    case K_GID: return four_ids(p, end, out->gids);
    case K_GROUPS: return group_list(p, end, groups, capacity, &out->group_count);
    case K_CAPINH: case K_CAPPRM: case K_CAPEFF: case K_CAPBND: case K_CAPAMB:
        return mask(p, end, &out->capabilities[key - K_CAPINH]);
    case K_NNP:
        if (!single(p, end, 1, &v)) return false;
        out->no_new_privs = (int32_t)v;
        return true;
    case K_SECCOMP:
        if (!single(p, end, 2, &v)) return false;
        out->seccomp = (int32_t)v;
        return true;
    case K_SIGBLK: return mask(p, end, &out->signals_blocked);
    case K_CPUS:
        if (p >= end || *p != '\t') return false;
        for (const char *c = p + 1; c < end; c++)
            if (!((*c >= '0' && *c <= '9') || *c == ',' || *c == '-')) return false;
        out->cpus_offset = (uint32_t)(p + 1 - buf);
        out->cpus_length = (uint32_t)(end - p - 1);
        return true;
    case K_VOLUNTARY: return single(p, end, UINT64_MAX, &out->voluntary_switches);
    default: return single(p, end, UINT64_MAX, &out->involuntary_switches);
    }
}

// Reads the file `tid`/`leaf` below `task_dirfd` with one read into `buf` (NUL-terminated).
// Returns its length, -errno, or -EFBIG when it does not fit.
static long read_whole(int task_dirfd, int32_t tid, const char *leaf, char *buf, size_t size) {
    long fd = cb_proc_open_task_file(task_dirfd, tid, leaf);
    if (fd < 0) return fd;
    long n = cb_sys3(SYS_read, fd, buf, size - 1);
    cb_sys1(SYS_close, fd);
    if (n < 0) return n;
    if ((size_t)n >= size - 1) return -EFBIG;  // a file this size may go on: the caller reads it whole
    buf[n] = 0;
    return n;
}

static long parse_status(const char *buf, long n, uint32_t *groups, uint32_t capacity, cb_task_state *out) {
    uint32_t seen = 0;
    for (const char *line = buf, *stop = buf + n; line < stop;) {
        const char *end = line;
        while (end < stop && *end != '\n') end++;
        if (end == stop) return -EBADMSG;  // the kernel ends every line
        const char *colon = line;
        while (colon < end && *colon != ':') colon++;
        if (colon == line || colon == end) return -EBADMSG;
        for (int k = 0; k < K_COUNT; k++) {
            size_t len = (size_t)(colon - line);
            const char *key = keys[k];
            size_t i = 0;
            while (i < len && key[i] == line[i]) i++;
            if (i != len || key[len] != 0) continue;
            if (seen & (1u << k) || !field(k, colon + 1, end, buf, groups, capacity, out)) return -EBADMSG;
            seen |= 1u << k;
            break;
        }
        line = end + 1;
    }
    return (seen & REQUIRED) == REQUIRED ? 0 : -EBADMSG;
}

// `pid (comm) S ppid ...`: the task's flags (field 9) and nice value (field 19), counted after
// the last ')' (comm may hold any byte but NUL, a ')' included).
static long parse_stat(const char *buf, long n, int32_t tid, cb_task_state *out) {
    const char *p = buf, *end = buf + n, *close = NULL;
    uint64_t v;
    if (!decimal(&p, end, INT32_MAX, &v) || v != (uint64_t)tid) return -EBADMSG;
    for (const char *c = p; c < end; c++)
        if (*c == ')') close = c;
    if (!close || end[-1] != '\n') return -EBADMSG;
    p = close + 1;
    for (int f = 3; f <= 19; f++) {
        if (p >= end || *p++ != ' ') return -EBADMSG;
        if (f == 3) {
            p++;  // the state letter, read from status
            continue;
        }
        bool negative = p < end && *p == '-';  // tpgid (8) is -1 without a terminal
        if (negative) p++;
        if (!decimal(&p, end, UINT64_MAX, &v)) return -EBADMSG;
        if (f == 9) out->flags = (uint32_t)v;
        if (f == 19) {
            if (v > 20) return -EBADMSG;
            out->nice = negative ? -(int32_t)v : (int32_t)v;
        }
    }
    return 0;
}

long cb_task_state_read(int task_dirfd, int32_t tid, char *buf, size_t size, uint32_t *groups, uint32_t capacity,
                        cb_task_state *out) {
    *out = (cb_task_state){0};
    if (size < 2) return -EINVAL;
    long n = read_whole(task_dirfd, tid, "status", buf, size);
    if (n < 0) return n;
    long r = parse_status(buf, n, groups, capacity, out);
    if (r < 0) return r;
    // Only an io_uring task needs its flags: it blocks every signal it can from its creation
    // (copy_process gives a task it makes with PF_IO_WORKER that mask, and only a task itself
    // changes its own), so a task that does not cannot be one, and its stat is not read.
    if (out->signals_blocked != EVERY_BLOCKABLE_SIGNAL) return 0;
    out->has_stat = 1;
    // stat goes after the status text, which the caller still needs (Cpus_allowed_list).
    size_t used = (size_t)n + 1;
    n = read_whole(task_dirfd, tid, "stat", buf + used, size - used);
    return n < 0 ? n : parse_stat(buf + used, n, tid, out);
}
