// Churn: threads are created and exit during every broadcast. After each success every thread
// the kernel lists holds the new gid (exiting ones excepted), and short-lived children check
// their own effective gid at birth and before they exit (CFaults births).
#define _GNU_SOURCE
#include "km.h"

#include <CFaults.h>
#include <stdio.h>
#include <sys/syscall.h>

#define KM_CHURN_CREATORS 2
#define KM_CHURN_ROUNDS 12
#define KM_BIRTH_PERIOD_US 500
#define KM_BIRTH_LIFE_US 2000
#define KM_CHURN_FIRST_GID 5000
/// Relaxed mode holds no thread, so two creators that never pause can outrun its rounds: it
/// promises no false success, and names the threads it could not reach when it gives up. Under
/// qemu's emulation of arm64 on x86 (each listing of /proc many times slower than a thread's
/// birth) some of the 12 broadcasts end so; at least this many must still succeed.
#define KM_CHURN_RELAXED_MIN_OK 6

int km_test_churn(bool relaxed) {
    if (km_start_idle_threads(2) != 0) return km_fail("could not start threads");
    if (cw_churn_start(KM_CHURN_CREATORS) != 0) return km_fail("could not start the churn");
    if (cw_births_start(KM_BIRTH_PERIOD_US, KM_BIRTH_LIFE_US, 0) != 0) {
        cw_churn_stop();
        return km_fail("could not start the births");
    }
    cb_options options = km_options(relaxed);
    int checked = 0, exiting = 0, failed = 0, gave_up = 0;
    unsigned long rounds = 0;
    char why[600] = "";
    for (int i = 0; i < KM_CHURN_ROUNDS && !failed; i++) {
        unsigned gid = KM_CHURN_FIRST_GID + (unsigned)i;
        long args[6] = {gid, gid, gid};
        cb_report report;
        cw_births_unsettle();
        cb_broadcast(SYS_setresgid, args, &options, &report);
        rounds += report.rounds;
        if (relaxed && report.status == CB_UNREACHABLE && km_names_every_problem(&report)) {
            gave_up++;  // no false success: it said which threads it did not reach
        } else if (report.status != CB_OK) {
            failed = 1;
            snprintf(why, sizeof why, "round %d: %s", i, km_describe(&report));
        } else {
            cw_births_settle(gid);
            km_census c = km_check_threads("Gid", km_ids(gid));
            checked += c.matched;
            exiting += c.exiting;
            if (c.wrong) {
                failed = 1;
                snprintf(why, sizeof why, "round %d: %d threads kept another gid (tid %d %s)", i, c.wrong,
                         c.first_wrong, c.wrong_line);
            }
        }
        cb_report_free(&report);
    }
    cw_births_stop();
    cw_churn_stop();
    cw_births_tally tally = cw_births_count();
    if (failed) return km_fail("%s", why);
    if (KM_CHURN_ROUNDS - gave_up < (relaxed ? KM_CHURN_RELAXED_MIN_OK : KM_CHURN_ROUNDS))
        return km_fail("only %d of %d broadcasts succeeded under churn", KM_CHURN_ROUNDS - gave_up, KM_CHURN_ROUNDS);
    if (tally.wrong)
        return km_fail("%lu of %lu newborn self-checks saw an old gid", tally.wrong, tally.checked);
    return km_pass("%d broadcasts (%d gave up naming the threads not reached), %lu signalling rounds, %lu churn children, "
                   "%lu births (%lu self-checks), %d thread states checked in /proc, %d exiting",
                   KM_CHURN_ROUNDS, gave_up, rounds, cw_churn_created(), tally.born, tally.checked, checked, exiting);
}
