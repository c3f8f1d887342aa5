// The report: what each thread did; and glibc's and Go's policy of aborting when
// threads disagree, for callers that ask for it.
//
// It is built while threads may still be inside the handler (a step that outlived
// the deadline, a thread that gave up late): one of them may have been interrupted
// inside malloc and hold its arena lock for as long as its step blocks. So the report
// takes no userspace lock and never allocates from the heap: its problem array is
// mapped with the raw mmap system call and unmapped by cb_report_free (I6). Its /proc
// reads (names, states, reasons) stop after REPORT_PROC_BUDGET_NS (I13): the entries
// past that carry the tid and the engine's own reason only.
#define _GNU_SOURCE
#include "engine.h"
#include "cb_statistics.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

// How long the report may spend reading /proc (per-thread names and states) after the
// broadcast ended; part of the deadline overrun bound (protocol.c).
#define REPORT_PROC_BUDGET_NS 10000000LL
#define PAGE_BYTES 4096

// The mapping starts with its own length (a slot's problem may resolve between the
// count and the fill, so problem_count can end below the capacity mapped).
#define HEADER_BYTES 16

static size_t mapped_bytes(uint32_t problems) {
    return (HEADER_BYTES + (size_t)problems * sizeof(cb_problem) + PAGE_BYTES - 1) & ~(size_t)(PAGE_BYTES - 1);
}

static bool is_problem(const struct slot *s, uint64_t gen, int32_t *kind) {
    switch (phase_of(atomic_load(&s->state), gen)) {  // acquire: pairs with finish() (ret, stopped)
    case P_ABANDONED: *kind = CB_PROBLEM_UNREACHABLE; return true;
    case P_ARRIVED: *kind = CB_PROBLEM_NO_RESULT; return true;
    case P_GAVE_UP: *kind = CB_PROBLEM_NO_RESULT; return true;
    case P_DIED: *kind = CB_PROBLEM_NO_RESULT; return true;
    case P_SKIPPED: *kind = CB_PROBLEM_SKIPPED; return true;
    case P_DONE:
    case P_DEPARTED: *kind = CB_PROBLEM_MISMATCH; return s->stopped < cb_g.limit;
    default: return false;
    }
}

static int32_t reason_from_proc(const cb_task_info *ti, int sig) {
    if (ti->has_sigblk && (ti->sigblk >> (sig - 1) & 1)) return CB_REASON_SIGNAL_BLOCKED;
    if (ti->state == 't' || ti->state == 'T') return CB_REASON_STOPPED;
    if (ti->state == 'D') return CB_REASON_UNINTERRUPTIBLE;
    return CB_REASON_NO_RESPONSE;
}

void cb_build_report(uint64_t gen, int sig, cb_report *out) {
    uint32_t count = atomic_load(&cb_g.count), n = 0;  // own
    int32_t kind;
    for (uint32_t i = 0; i < count; i++) {
        if (is_problem(&cb_g.slots[i], gen, &kind)) n++;
        enum phase ph = phase_of(atomic_load(&cb_g.slots[i].state), gen);  // acquire: pairs with finish()
        if (ph == P_DONE || ph == P_DEPARTED) out->threads++;
    }
    if (out->changed) out->threads++;  // the caller
    if (!n) return;
    size_t bytes = mapped_bytes(n);
    long map = cb_sys6(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map < 0 && map > -4096) return;  // I6: no heap while a handler may be inside
    *(size_t *)map = bytes;
    out->problems = (cb_problem *)(map + HEADER_BYTES);
    int64_t budget_end = cb_now_ns() + REPORT_PROC_BUDGET_NS;
    for (uint32_t i = 0; i < count && out->problem_count < n; i++) {
        struct slot *s = &cb_g.slots[i];
        if (!is_problem(s, gen, &kind)) continue;
        cb_problem *p = &out->problems[out->problem_count++];
        *p = (cb_problem){.tid = s->tid, .kind = kind, .reason = s->reason, .result = s->ret};
        if (kind == CB_PROBLEM_NO_RESULT) {
            enum phase ph = phase_of(atomic_load(&s->state), gen);  // acquire: pairs with finish()
            p->reason = ph == P_GAVE_UP ? CB_REASON_GAVE_UP : ph == P_DIED ? CB_REASON_DIED : CB_REASON_STILL_RUNNING;
        }
        cb_task_info ti;
        bool unreachable = kind == CB_PROBLEM_UNREACHABLE;
        long read = cb_now_ns() < budget_end ? cb_proc_task_info(cb_g.task_fd, s->name, unreachable, &ti) : -ETIME;  // I13
        if (read == 0) {
            memcpy(p->name, ti.name, sizeof p->name);
            p->state = ti.state;
            if (unreachable && p->reason == CB_REASON_NO_RESPONSE) p->reason = reason_from_proc(&ti, sig);
        } else if (read == -EACCES && unreachable && p->reason == CB_REASON_NO_RESPONSE) {
            p->reason = CB_REASON_PROC_DENIED;  // a Landlock domain, say: why it did not answer is unknown
        }
        if (kind == CB_PROBLEM_SKIPPED) out->skipped++;
        if (kind == CB_PROBLEM_MISMATCH) {
            p->step = s->stopped;
            p->expected = cb_g.expected[s->stopped];
            continue;
        }
        if (kind != CB_PROBLEM_UNREACHABLE || p->reason != CB_REASON_SEND_FAILED) p->result = 0;
    }
}

static void write_str(const char *s) { cb_sys3(SYS_write, 2, s, strlen(s)); }

static void write_num(long v) {
    char buf[24];
    int n = 0;
    bool neg = v < 0;
    unsigned long u = neg ? -(unsigned long)v : (unsigned long)v;
    do buf[sizeof buf - 1 - n++] = (char)('0' + u % 10); while ((u /= 10) > 0);
    if (neg) buf[sizeof buf - 1 - n++] = '-';
    cb_sys3(SYS_write, 2, buf + sizeof buf - n, n);
}

void cb_abort_on_mismatch(const cb_report *r) {
    write_str("allthreads: threads disagree on a step's result");
    for (uint32_t i = 0; i < r->problem_count; i++) {
        const cb_problem *p = &r->problems[i];
        if (p->kind != CB_PROBLEM_MISMATCH) continue;
        write_str("; tid ");
        write_num(p->tid);
        write_str(" (");
        write_str(p->name);
        write_str(") step ");
        write_num(p->step + 1);
        write_str(" got ");
        write_num(p->result);
        write_str(", expected ");
        write_num(p->expected);
    }
    write_str("\n");
    abort();
}

void cb_report_free(cb_report *report) {
    if (report->problems) {
        char *map = (char *)report->problems - HEADER_BYTES;
        cb_sys2(SYS_munmap, map, *(size_t *)map);
    }
    report->problems = NULL;
    report->problem_count = 0;
}

void cb_get_stats(cb_stats *out) {
    out->broadcasts = atomic_load(&cb_stat_broadcasts);  // stat: plain read
    out->handler_runs = atomic_load(&cb_stat_handler_runs);  // stat: plain read
    out->not_ours = atomic_load(&cb_stat_not_ours);  // stat: plain read
}
