// Programs of several steps: one whose second step fails leaves every thread with exactly the
// first; a whole credential drop ends with a proof step (setuid(0) must fail with EPERM). The
// first broadcast of the process lists its threads before its first signal: one round reaches
// every thread (the threads are started and idle, so none is born meanwhile).
#define _GNU_SOURCE
#include "km.h"

#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define KM_PROGRAM_THREADS 6
#define KM_FIRST_GROUP 111
#define KM_GROUP 4242
#define KM_GID 4243
#define KM_UID 4244
/// A capability number no kernel has: PR_CAPBSET_DROP fails with EINVAL.
#define KM_NO_SUCH_CAP 9999

int km_test_program(bool relaxed) {
    if (km_start_idle_threads(KM_PROGRAM_THREADS) != 0) return km_fail("could not start threads");
    cb_options options = km_options(relaxed);
    cb_report report;

    static const unsigned first_group = KM_FIRST_GROUP, group = KM_GROUP;
    cb_step failing[] = {
        km_step(SYS_setgroups, 1, (long)&first_group, 0),
        km_step(SYS_prctl, PR_CAPBSET_DROP, KM_NO_SUCH_CAP, 0),
        km_step(SYS_setresgid, KM_GID, KM_GID, KM_GID),
    };
    cb_broadcast_steps(failing, 3, &options, &report);
    if (report.status != CB_STEP_FAILED || report.failed_step != 1 || report.steps_applied != 1 || report.rounds != 1) {
        int r = km_fail("failing program (the first broadcast): failed_step=%u steps_applied=%u %s", report.failed_step,
                        report.steps_applied, km_describe(&report));
        cb_report_free(&report);
        return r;
    }
    cb_report_free(&report);
    km_census groups = km_check_threads("Groups", "111");
    km_census gid = km_check_threads("Gid", km_ids(0));
    if (groups.wrong || gid.wrong || groups.matched != KM_PROGRAM_THREADS + 1 || gid.matched != KM_PROGRAM_THREADS + 1)
        return km_fail("after the failed step: groups %d ok, %d wrong (%s, tid %d); gid %d ok, %d wrong (%s, tid %d)",
                       groups.matched, groups.wrong, groups.wrong_line, groups.first_wrong, gid.matched, gid.wrong,
                       gid.wrong_line, gid.first_wrong);

    cb_step drop[] = {
        km_step(SYS_setgroups, 1, (long)&group, 0),
        km_step(SYS_setresgid, KM_GID, KM_GID, KM_GID),
        km_step(SYS_setresuid, KM_UID, KM_UID, KM_UID),
        {.nr = SYS_setuid, .args = {0}, .expect = CB_EXPECT_VALUE, .value = -EPERM},
    };
    cb_broadcast_steps(drop, 4, &options, &report);
    uint32_t threads = report.threads;
    if (report.status != CB_OK || threads != KM_PROGRAM_THREADS + 1) {
        int r = km_fail("drop: %s", km_describe(&report));
        cb_report_free(&report);
        return r;
    }
    cb_report_free(&report);
    const char *fields[] = {"Uid", "Gid", "Groups"};
    char expected[3][64];
    snprintf(expected[0], sizeof expected[0], "%s", km_ids(KM_UID));
    snprintf(expected[1], sizeof expected[1], "%s", km_ids(KM_GID));
    snprintf(expected[2], sizeof expected[2], "%d", KM_GROUP);
    for (int i = 0; i < 3; i++) {
        km_census c = km_check_threads(fields[i], expected[i]);
        // No false success: the kernel shows as many changed threads as the report counted.
        if (c.wrong || c.matched != (int)threads)
            return km_fail("after the drop: %s %d ok of %u, %d wrong (%s, tid %d)", fields[i], c.matched, threads,
                           c.wrong, c.wrong_line, c.first_wrong);
    }
    return km_pass("%u threads: first broadcast in 1 round; step 2 of 3 failed -> only step 1 everywhere; 4-step drop + EPERM proof, checked in /proc",
                   threads);
}
