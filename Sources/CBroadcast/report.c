// The report: what each thread did, built after every thread is released, so
// it may allocate and read /proc at leisure; and glibc's and Go's policy of
// aborting when threads disagree, for callers that ask for it.
#define _GNU_SOURCE
#include "engine.h"
#include "report.h"

#include <stdlib.h>
#include <string.h>

static bool is_problem(const struct slot *s, uint64_t gen, int32_t *kind) {
    switch (phase_of(atomic_load(&s->state), gen)) {
    case P_ABANDONED: *kind = CB_PROBLEM_UNREACHABLE; return true;
    case P_ARRIVED: *kind = CB_PROBLEM_NO_RESULT; return true;
    case P_GAVE_UP: *kind = CB_PROBLEM_NO_RESULT; return true;
    case P_SKIPPED: *kind = CB_PROBLEM_SKIPPED; return true;
    case P_DONE:
    case P_DEPARTED: *kind = CB_PROBLEM_MISMATCH; return s->stopped < g.limit;
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
    uint32_t count = atomic_load(&g.count), n = 0;
    int32_t kind;
    for (uint32_t i = 0; i < count; i++) {
        if (is_problem(&g.slots[i], gen, &kind)) n++;
        enum phase ph = phase_of(atomic_load(&g.slots[i].state), gen);
        if (ph == P_DONE || ph == P_DEPARTED) out->threads++;
    }
    if (out->changed) out->threads++;  // the caller
    if (!n) return;
    out->problems = calloc(n, sizeof *out->problems);
    if (!out->problems) return;
    for (uint32_t i = 0; i < count; i++) {
        struct slot *s = &g.slots[i];
        if (!is_problem(s, gen, &kind)) continue;
        cb_problem *p = &out->problems[out->problem_count++];
        *p = (cb_problem){.tid = s->tid, .kind = kind, .reason = s->reason, .result = s->ret};
        if (kind == CB_PROBLEM_NO_RESULT)
            p->reason = phase_of(atomic_load(&s->state), gen) == P_GAVE_UP ? CB_REASON_GAVE_UP : CB_REASON_STILL_RUNNING;
        cb_task_info ti;
        bool unreachable = kind == CB_PROBLEM_UNREACHABLE;
        if (cb_proc_task_info(g.task_fd, s->tid, unreachable, &ti) == 0) {
            memcpy(p->name, ti.name, sizeof p->name);
            p->state = ti.state;
            if (unreachable && p->reason == CB_REASON_NO_RESPONSE) p->reason = reason_from_proc(&ti, sig);
        }
        if (kind == CB_PROBLEM_SKIPPED) out->skipped++;
        if (kind == CB_PROBLEM_MISMATCH) {
            p->step = s->stopped;
            p->expected = g.expected[s->stopped];
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
    free(report->problems);
    report->problems = NULL;
    report->problem_count = 0;
}

void cb_get_stats(cb_stats *out) {
    out->broadcasts = atomic_load(&cb_stat_broadcasts);
    out->handler_runs = atomic_load(&cb_stat_handler_runs);
    out->not_ours = atomic_load(&cb_stat_not_ours);
}
