// What every kernel-matrix test needs: options, the one output line, idle threads, and the
// kernel's own view of every thread.
#define _GNU_SOURCE
#include "km.h"

#include <CWorkload.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/// The broadcast deadline: TCG runs a guest 10-50 times slower than the host.
#define KM_TIMEOUT_NS 20000000000LL
#define PF_EXITING 0x00000004L
#define PF_IO_WORKER 0x00000010L

cb_options km_options(bool relaxed) {
    return (cb_options){.timeout_ns = KM_TIMEOUT_NS, .signal = CB_DEFAULT_SIGNAL, .relaxed = relaxed};
}

int km_report(int status, const char *format, ...) {
    printf("%s ", status == KM_PASS ? "PASS" : status == KM_SKIP ? "SKIP" : "FAIL");
    va_list args;
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    printf("\n");
    fflush(stdout);
    return status;
}

bool km_names_every_problem(const cb_report *report) {
    if (report->problem_count == 0) return false;
    for (uint32_t i = 0; i < report->problem_count; i++)
        if (report->problems[i].tid <= 0 || report->problems[i].reason == 0) return false;
    return true;
}

const char *km_describe(const cb_report *report) {
    static char text[512];
    int n = snprintf(text, sizeof text, "status=%d result=%ld threads=%u skipped=%u rounds=%u problems=%u",
                     report->status, report->result, report->threads, report->skipped, report->rounds,
                     report->problem_count);
    for (uint32_t i = 0; i < report->problem_count && n < (int)sizeof text - 64; i++) {
        const cb_problem *p = &report->problems[i];
        n += snprintf(text + n, sizeof text - (size_t)n, " [tid=%d kind=%d reason=%d state=%c name=%s result=%ld]",
                      p->tid, p->kind, p->reason, p->state ? p->state : '-', p->name, p->result);
    }
    return text;
}

int km_start_idle_threads(int count) {
    static const ts_idle kinds[] = {TS_IDLE_PAUSE, TS_IDLE_READ, TS_IDLE_FUTEX, TS_IDLE_NANOSLEEP};
    for (int i = 0; i < count; i++) {
        int tid = ts_start_idle_thread(kinds[i % 4]);
        if (tid < 0) return tid;
    }
    return 0;
}

/// Reads a small /proc file into `buffer`; returns its length or -errno.
static long read_file(const char *path, char *buffer, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, buffer, size - 1);
    long result = n < 0 ? -errno : n;
    close(fd);
    if (n >= 0) buffer[n] = 0;
    return result;
}

long km_task_flags(pid_t tid) {
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    long n = read_file(path, text, sizeof text);
    if (n < 0) return n;
    // The name may hold spaces and parentheses: the fields start after the last ')'.
    char *p = strrchr(text, ')');
    if (!p) return -EINVAL;
    char state;
    int ppid, pgrp, session, tty, tpgid;
    unsigned long flags;
    if (sscanf(p + 1, " %c %d %d %d %d %d %lu", &state, &ppid, &pgrp, &session, &tty, &tpgid, &flags) != 7)
        return -EINVAL;
    return (long)flags;
}

/// Copies the values of line `field` of `status` into `out`, separated by one space.
static bool field_values(const char *status, const char *field, char *out, size_t size) {
    char key[32];
    snprintf(key, sizeof key, "\n%s:", field);
    const char *line = strstr(status, key);
    if (!line) return false;
    line += strlen(key);
    size_t n = 0;
    for (const char *c = line; *c && *c != '\n'; ) {
        while (*c == ' ' || *c == '\t') c++;
        if (!*c || *c == '\n') break;
        if (n && n < size - 1) out[n++] = ' ';
        while (*c && *c != ' ' && *c != '\t' && *c != '\n') {
            if (n < size - 1) out[n++] = *c;
            c++;
        }
    }
    out[n] = 0;
    return true;
}

km_census km_check_threads(const char *field, const char *expected) {
    km_census census = {0};
    char want[96];
    snprintf(want, sizeof want, "%s", expected);
    for (char *c = want; *c; c++) if (*c == '\t') *c = ' ';
    DIR *dir = opendir("/proc/self/task");
    if (!dir) {
        census.wrong = 1;
        snprintf(census.wrong_line, sizeof census.wrong_line, "opendir: %s", strerror(errno));
        return census;
    }
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (entry->d_name[0] == '.') continue;
        pid_t tid = atoi(entry->d_name);
        char path[64], status[4096], got[64];
        snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
        long flags = km_task_flags(tid);
        if (flags >= 0 && (flags & PF_IO_WORKER)) {
            census.io_workers++;
            continue;
        }
        if (read_file(path, status, sizeof status) < 0 || !field_values(status, field, got, sizeof got)) {
            census.exiting++;  // gone since the listing
            continue;
        }
        if (strcmp(got, want) == 0) {
            census.matched++;
            continue;
        }
        // A thread that is exiting runs no application code any more; the engine skips it.
        flags = km_task_flags(tid);
        if (flags < 0 || (flags & PF_EXITING)) {
            census.exiting++;
            continue;
        }
        if (!census.wrong++) {
            census.first_wrong = tid;
            snprintf(census.wrong_line, sizeof census.wrong_line, "%s: %s", field, got);
        }
    }
    closedir(dir);
    return census;
}

const char *km_ids(unsigned id) {
    static char text[64];
    snprintf(text, sizeof text, "%u\t%u\t%u\t%u", id, id, id, id);
    return text;
}

cb_step km_step(long nr, long a0, long a1, long a2) {
    return (cb_step){.nr = nr, .args = {a0, a1, a2}, .expect = CB_EXPECT_CALLER};
}
