// Fork: a child of a process that has broadcast (its registry names the parent's threads)
// starts threads of its own and broadcasts; the parent's threads are untouched by that, and
// the parent broadcasts again afterwards.
#define _GNU_SOURCE
#include "km.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <CWorkload.h>
#include <unistd.h>

#define KM_FORK_THREADS 3
#define KM_PARENT_GID 6000
#define KM_CHILD_GID 6001
#define KM_PARENT_AGAIN_GID 6002
/// The bound on the child's life (its broadcast has its own deadline).
#define KM_CHILD_SECONDS 120

/// Broadcasts setresgid(gid) and checks every thread: 0, or a line describing what went wrong.
static const char *broadcast_gid(bool relaxed, unsigned gid, uint32_t want_threads) {
    static char why[600];
    cb_options options = km_options(relaxed);
    long args[6] = {gid, gid, gid};
    cb_report report;
    cb_broadcast(SYS_setresgid, args, &options, &report);
    bool bad = report.status != CB_OK || report.threads != want_threads;
    if (bad) snprintf(why, sizeof why, "gid %u: %s", gid, km_describe(&report));
    cb_report_free(&report);
    if (bad) return why;
    km_census c = km_check_threads("Gid", km_ids(gid));
    if (c.wrong || c.matched != (int)want_threads) {
        snprintf(why, sizeof why, "gid %u: %d of %u threads changed, %d wrong (tid %d %s)", gid, c.matched,
                 want_threads, c.wrong, c.first_wrong, c.wrong_line);
        return why;
    }
    return NULL;
}

/// The child's life: its failure, if any, goes to the parent through `report_fd`.
static int child_main(bool relaxed, int report_fd) {
    const char *why = km_start_idle_threads(KM_FORK_THREADS) != 0
                          ? "could not start threads"
                          : broadcast_gid(relaxed, KM_CHILD_GID, KM_FORK_THREADS + 1);
    if (!why) return 0;
    ssize_t written = write(report_fd, why, strlen(why));
    (void)written;
    return 1;
}

int km_test_fork(bool relaxed) {
    if (km_start_idle_threads(KM_FORK_THREADS) != 0) return km_fail("could not start threads");
    const char *why = broadcast_gid(relaxed, KM_PARENT_GID, KM_FORK_THREADS + 1);
    if (why) return km_fail("parent: %s", why);
    int report[2];
    if (pipe(report) != 0) return km_fail("pipe: %s", strerror(errno));
    pid_t child = fork();
    if (child < 0) return km_fail("fork: %s", strerror(errno));
    if (child == 0) _exit(child_main(relaxed, report[1]));
    close(report[1]);
    int status = 0;
    pid_t waited = 0;
    for (int tick = 0; tick < KM_CHILD_SECONDS * 100 && (waited = waitpid(child, &status, WNOHANG)) == 0; tick++)
        cw_sleep_ns(10000000);
    if (waited == 0) {
        kill(child, SIGKILL);
        waitpid(child, &status, 0);
        return km_fail("the child did not finish");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char child_why[600] = "";
        ssize_t n = read(report[0], child_why, sizeof child_why - 1);
        child_why[n > 0 ? n : 0] = 0;
        return km_fail("child: exit status %#x %s", status, child_why);
    }
    close(report[0]);
    km_census untouched = km_check_threads("Gid", km_ids(KM_PARENT_GID));
    if (untouched.wrong) return km_fail("the child's broadcast reached the parent's tid %d", untouched.first_wrong);
    why = broadcast_gid(relaxed, KM_PARENT_AGAIN_GID, KM_FORK_THREADS + 1);
    if (why) return km_fail("parent after the child: %s", why);
    return km_pass("child of a broadcasting process: %d threads changed; parent untouched, then changed again",
                   KM_FORK_THREADS + 1);
}
