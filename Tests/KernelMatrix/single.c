// The single-thread path: a process that never created a thread broadcasts a program (the
// caller alone runs it), and a program whose first step fails changes nothing.
#define _GNU_SOURCE
#include "km.h"

#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define KM_SINGLE_GROUP 31
#define KM_SINGLE_GID 32
/// A capability number no kernel has: PR_CAPBSET_DROP fails with EINVAL.
#define KM_NO_SUCH_CAP 9999

int km_test_single(bool relaxed) {
    cb_options options = km_options(relaxed);
    cb_report report;

    // A failing first step: CB_CALL_FAILED, and nothing ran.
    static const unsigned group = KM_SINGLE_GROUP;
    cb_step failing[] = {
        km_step(SYS_prctl, PR_CAPBSET_DROP, KM_NO_SUCH_CAP, 0),
        km_step(SYS_setgroups, 1, (long)&group, 0),
    };
    cb_broadcast_steps(failing, 2, &options, &report);
    int status = report.status, changed = report.changed;
    long result = report.result;
    cb_report_free(&report);
    if (status != CB_CALL_FAILED || changed || result != -EINVAL)
        return km_fail("failing program: status=%d changed=%d result=%ld", status, changed, result);
    km_census before = km_check_threads("Groups", "");
    if (before.wrong || before.matched != 1)
        return km_fail("failing program changed the groups: %s (tid %d)", before.wrong_line, before.first_wrong);

    cb_step program[] = {
        km_step(SYS_setgroups, 1, (long)&group, 0),
        km_step(SYS_setresgid, KM_SINGLE_GID, KM_SINGLE_GID, KM_SINGLE_GID),
    };
    cb_broadcast_steps(program, 2, &options, &report);
    if (report.status != CB_OK || report.threads != 1) {
        int r = km_fail("program: %s", km_describe(&report));
        cb_report_free(&report);
        return r;
    }
    cb_report_free(&report);
    km_census gid = km_check_threads("Gid", km_ids(KM_SINGLE_GID));
    km_census groups = km_check_threads("Groups", "31");
    if (gid.wrong || groups.wrong || gid.matched != 1 || groups.matched != 1)
        return km_fail("kernel view: gid %d/%d (%s) groups %d/%d (%s)", gid.matched, gid.wrong, gid.wrong_line,
                       groups.matched, groups.wrong, groups.wrong_line);
    return km_pass("1 thread: failing first step changed nothing; 2-step program checked in /proc");
}
