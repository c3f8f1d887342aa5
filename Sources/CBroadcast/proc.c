// Raw /proc readers for the engine. They run while other threads are stopped,
// so they use only open/read/close/getdents64 system calls on caller-provided
// buffers: no opendir (it allocates), no stdio (it locks), no errno.
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

// Parses a decimal number; returns -1 unless `s` is all digits up to `end`
// (or NUL) and fits in an int32.
static int64_t parse_decimal(const char *s, const char *end) {
    int64_t v = 0;
    const char *p = s;
    for (; p != end && *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        if (v > INT32_MAX) return -1;
    }
    bool complete = end ? p == end : *p == 0;
    return (p == s || !complete) ? -1 : v;
}

long cb_proc_scan(int dirfd, char *buf, size_t bufsize, void (*visit)(int32_t, void *), void *ctx) {
    long r = cb_sys3(SYS_lseek, dirfd, 0, SEEK_SET);
    if (r < 0) return r;
    for (;;) {
        long n = cb_sys3(SYS_getdents64, dirfd, buf, bufsize);
        if (n <= 0) return n;
        for (long off = 0; off < n;) {
            const struct linux_dirent64 *d = (const struct linux_dirent64 *)(buf + off);
            int64_t tid = parse_decimal(d->d_name, NULL);
            if (tid > 0) visit((int32_t)tid, ctx);
            off += d->d_reclen;
        }
    }
}

// Reads a whole small /proc file at `fd` from offset 0 into buf (NUL-terminated).
static long read_at_zero(int fd, char *buf, size_t bufsize) {
    long n = cb_sys4(SYS_pread64, fd, buf, bufsize - 1, 0);
    if (n < 0) return n;
    buf[n] = 0;
    return n;
}

static const char *skip_blanks(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

// Streams the file at `fd` from offset 0 and copies into `value` the start of
// the line that begins with `key` (without the key and leading blanks).
// Status files can be long (a `Groups:` line holds up to 65536 ids), so lines
// are matched on their first bytes only and never held whole.
// A line longer than `line` is an error, never a silently shortened value (an NSpid line
// holds up to 33 ids: 6 + 33 * 8 bytes).
static long find_line(int fd, const char *key, char *value, size_t valsize) {
    char chunk[1024], line[320];
    size_t len = 0;
    bool cut = false;
    long r = cb_sys3(SYS_lseek, fd, 0, SEEK_SET);
    if (r < 0) return r;
    for (;;) {
        long n = cb_sys3(SYS_read, fd, chunk, sizeof chunk);
        if (n < 0) return n;
        if (n == 0) return -ENODATA;  // no such line
        for (long i = 0; i < n; i++) {
            if (chunk[i] != '\n') {
                if (len < sizeof line - 1) line[len++] = chunk[i];
                else cut = true;
                continue;
            }
            line[len] = 0;
            size_t k = 0;
            while (key[k] && line[k] == key[k]) k++;
            if (!key[k]) {
                const char *p = skip_blanks(line + k);
                size_t m = 0;
                while (p[m] && m < valsize - 1) value[m] = p[m], m++;
                value[m] = 0;
                return cut || p[m] ? -E2BIG : 0;
            }
            len = 0;
            cut = false;
        }
    }
}

long cb_proc_read_number(int fd) {
    char buf[24];
    long n = read_at_zero(fd, buf, sizeof buf);
    if (n < 0) return n;
    long v = 0;
    for (const char *p = buf; *p >= '0' && *p <= '9'; p++) v = v * 10 + (*p - '0');
    return v;
}

long cb_proc_thread_count(int task_dirfd) {
    // The kernel gives /proc/<pid>/task a link count of 2 + nr_threads, the
    // counter `Threads:` in /proc/self/status shows: one fstat (~0.3 us)
    // instead of generating the whole status file (~4 us).
    struct stat st;
    long r = cb_sys2(SYS_fstat, task_dirfd, &st);
    if (r < 0) return r;
    return st.st_nlink >= 3 ? (long)st.st_nlink - 2 : -EPROTO;  // not the kernel we know
}

// Writes "<tid>/<leaf>" into out.
static void task_path(char *out, int32_t tid, const char *leaf) {
    char digits[12];
    int n = 0;
    do digits[n++] = (char)('0' + tid % 10); while ((tid /= 10) > 0);
    while (n > 0) *out++ = digits[--n];
    *out++ = '/';
    while (*leaf) *out++ = *leaf++;
    *out = 0;
}

long cb_proc_open_task_file(int dirfd, int32_t name, const char *leaf) {
    char path[32];
    task_path(path, name, leaf);
    return cb_sys4(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC, 0);
}

// stat is "tid (comm) S ppid ... flags ..."; comm may contain spaces and
// parentheses, so fields are counted from the last ')'.
static void parse_stat(const char *buf, cb_task_info *out) {
    const char *open = buf, *close = NULL;
    while (*open && *open != '(') open++;
    for (const char *p = open; *p; p++)
        if (*p == ')') close = p;
    if (!*open || !close) return;
    size_t len = 0;
    for (const char *p = open + 1; p < close && len < sizeof out->name - 1; p++) out->name[len++] = *p;
    out->name[len] = 0;
    const char *p = close + 1;
    // Fields after comm: 3 state, 4 ppid, 5 pgrp, 6 session, 7 tty, 8 tpgid, 9 flags,
    // ..., 22 starttime.
    for (int field = 3; field <= 22 && *p; field++) {
        p = skip_blanks(p);
        const char *e = p;
        while (*e && *e != ' ') e++;
        uint64_t v = 0;
        for (const char *q = p; q < e && *q >= '0' && *q <= '9'; q++) v = v * 10 + (uint64_t)(*q - '0');
        if (field == 3) out->state = *p;
        if (field == 9) out->flags = (uint32_t)v;
        if (field == 22) out->start = v;
        p = e;
    }
}

static bool parse_hex(const char *p, uint64_t *out) {
    uint64_t v = 0;
    int digits = 0;
    for (;; p++, digits++) {
        int d;
        if (*p >= '0' && *p <= '9') d = *p - '0';
        else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
        else break;
        v = (v << 4) | (uint64_t)d;
    }
    *out = v;
    return digits > 0 && digits <= 16;
}

long cb_proc_read_stat(int fd, cb_task_info *out) {
    char buf[1024];
    *out = (cb_task_info){0};
    long n = read_at_zero(fd, buf, sizeof buf);
    if (n < 0) return n;
    parse_stat(buf, out);
    return 0;
}

long cb_proc_task_info(int dirfd, int32_t name, bool with_status, cb_task_info *out) {
    long fd = cb_proc_open_task_file(dirfd, name, "stat");
    if (fd < 0) return fd;
    long r = cb_proc_read_stat((int)fd, out);
    cb_sys1(SYS_close, fd);
    if (r < 0) return r;
    if (!with_status) return 0;
    fd = cb_proc_open_task_file(dirfd, name, "status");
    if (fd < 0) return fd;
    char value[32];
    if (find_line((int)fd, "SigBlk:", value, sizeof value) == 0) out->has_sigblk = parse_hex(value, &out->sigblk);
    cb_sys1(SYS_close, fd);
    return 0;
}

long cb_proc_start(int dirfd, const char *path, uint64_t *start) {
    char buf[1024];
    long fd = cb_sys4(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return fd;
    long n = read_at_zero((int)fd, buf, sizeof buf);
    cb_sys1(SYS_close, fd);
    if (n < 0) return n;
    cb_task_info ti = {0};
    parse_stat(buf, &ti);
    if (!ti.start) return -EPROTO;
    *start = ti.start;
    return 0;
}

long cb_proc_ns_tid(int dirfd, const char *path, int *levels) {
    long fd = cb_sys4(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return fd;
    char value[320];
    long r = find_line((int)fd, "NSpid:", value, sizeof value);
    cb_sys1(SYS_close, fd);
    if (r < 0) return r;
    int fields = 0;
    int64_t last = -1;
    for (const char *p = skip_blanks(value); *p; p = skip_blanks(p)) {
        const char *e = p;
        while (*e && *e != ' ' && *e != '\t') e++;
        last = parse_decimal(p, e);
        if (last <= 0) return -EPROTO;  // not the format we know
        fields++;
        p = e;
    }
    if (fields == 0) return -EPROTO;
    if (levels) *levels = fields;
    return (long)last;
}

long cb_proc_own_tid(int dirfd, int32_t name) {
    char path[32];
    task_path(path, name, "status");
    return cb_proc_ns_tid(dirfd, path, NULL);
}
