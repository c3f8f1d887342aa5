// Building and acting on a broadcast's report (report.c). Internal to CBroadcast.
#ifndef CBROADCAST_REPORT_H
#define CBROADCAST_REPORT_H

#include "CBroadcast.h"
#include "engine.h"

// Fills `out` from the slots of generation `gen`. Runs once no thread is held.
CB_HIDDEN void cb_build_report(uint64_t gen, int sig, cb_report *out);

// Glibc and Go abort when threads disagree; callers that ask for that get it.
CB_HIDDEN _Noreturn void cb_abort_on_mismatch(const cb_report *r);

#endif
