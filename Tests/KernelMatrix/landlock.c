// Landlock on every thread, as the kernel at hand supports it (6.1: ABI 2; scopes need ABI 6).
//  1. no_new_privs and a domain that forbids making directories: /proc shows NoNewPrivs on
//     every thread, and a probe step makes every thread try mkdirat and get EACCES.
//  2. ABI 6+: a domain scoping signals and abstract sockets; the next broadcast still reaches
//     every thread (signals between threads of one process stay allowed).
//  3. A domain that forbids opening any file or directory, /proc included: the engine works on
//     with the descriptors it opened before, and every thread's getegid shows the new gid.
#define _GNU_SOURCE
#include "km.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// The ABI's constants, defined here: Debian 12's <linux/landlock.h> predates scopes.
#define KM_LANDLOCK_VERSION 1u
#define KM_ACCESS_FS_READ_FILE (1ull << 2)
#define KM_ACCESS_FS_READ_DIR (1ull << 3)
#define KM_ACCESS_FS_MAKE_DIR (1ull << 7)
#define KM_SCOPE_ABSTRACT_UNIX_SOCKET 1ull
#define KM_SCOPE_SIGNAL 2ull
/// The first ABI with `scoped` (Linux 6.12).
#define KM_ABI_SCOPED 6
#define KM_LANDLOCK_THREADS 4
#define KM_SCOPED_GID 7200
#define KM_UNREADABLE_GID 7300

/// struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix of it.
typedef struct ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
} ruleset_attr;

/// A ruleset that handles `fs` (and `scoped`) and allows nothing: an fd, or -errno.
static long ruleset(uint64_t fs, uint64_t scoped) {
    ruleset_attr attr = {.handled_access_fs = fs, .scoped = scoped};
    size_t size = scoped ? sizeof attr : sizeof attr.handled_access_fs;
    long fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    return fd < 0 ? -errno : fd;
}

/// Runs `steps` everywhere; NULL on CB_OK, else what went wrong.
static const char *run(const cb_step *steps, uint32_t count, bool relaxed) {
    static char why[600];
    cb_options options = km_options(relaxed);
    cb_report report;
    cb_broadcast_steps(steps, count, &options, &report);
    bool ok = report.status == CB_OK && report.threads == KM_LANDLOCK_THREADS + 1;
    if (!ok) snprintf(why, sizeof why, "%s", km_describe(&report));
    cb_report_free(&report);
    return ok ? NULL : why;
}

int km_test_landlock(bool relaxed) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, KM_LANDLOCK_VERSION);
    if (abi < 1) return km_skip("no Landlock here: %s", strerror(errno));
    if (km_start_idle_threads(KM_LANDLOCK_THREADS) != 0) return km_fail("could not start threads");
    char parent[] = "/tmp/km-landlock-XXXXXX", denied[64];
    if (!mkdtemp(parent)) return km_fail("mkdtemp: %s", strerror(errno));
    snprintf(denied, sizeof denied, "%s/denied", parent);

    long no_mkdir = ruleset(KM_ACCESS_FS_MAKE_DIR, 0);
    if (no_mkdir < 0) return km_fail("landlock_create_ruleset: %s", strerror((int)-no_mkdir));
    cb_step enforce[] = {
        km_step(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0),
        km_step(SYS_landlock_restrict_self, no_mkdir, 0, 0),
        {.nr = SYS_mkdirat, .args = {AT_FDCWD, (long)denied, 0700}, .expect = CB_EXPECT_VALUE, .value = -EACCES},
    };
    const char *why = run(enforce, 3, relaxed);
    rmdir(denied);  // only if a thread made it after all
    rmdir(parent);
    if (why) return km_fail("no_new_privs + Landlock + mkdirat probe: %s", why);
    km_census nnp = km_check_threads("NoNewPrivs", "1");
    if (nnp.wrong || nnp.matched != KM_LANDLOCK_THREADS + 1)
        return km_fail("NoNewPrivs: %d of %d threads (tid %d %s)", nnp.matched, KM_LANDLOCK_THREADS + 1,
                       nnp.first_wrong, nnp.wrong_line);

    char scoped_note[64] = "scopes: ABI < 6, not tried";
    if (abi >= KM_ABI_SCOPED) {
        long scoped = ruleset(KM_ACCESS_FS_MAKE_DIR, KM_SCOPE_SIGNAL | KM_SCOPE_ABSTRACT_UNIX_SOCKET);
        if (scoped < 0) return km_fail("scoped ruleset: %s", strerror((int)-scoped));
        cb_step scope[] = {km_step(SYS_landlock_restrict_self, scoped, 0, 0)};
        cb_step after[] = {km_step(SYS_setresgid, KM_SCOPED_GID, KM_SCOPED_GID, KM_SCOPED_GID)};
        if ((why = run(scope, 1, relaxed)) || (why = run(after, 1, relaxed)))
            return km_fail("signal-scoped domain: %s", why);
        km_census gid = km_check_threads("Gid", km_ids(KM_SCOPED_GID));
        if (gid.wrong || gid.matched != KM_LANDLOCK_THREADS + 1)
            return km_fail("after the scoped domain: %d threads changed (tid %d %s)", gid.matched,
                           gid.first_wrong, gid.wrong_line);
        snprintf(scoped_note, sizeof scoped_note, "signal-scoped domain then a broadcast");
    }

    long unreadable = ruleset(KM_ACCESS_FS_READ_FILE | KM_ACCESS_FS_READ_DIR, 0);
    if (unreadable < 0) return km_fail("unreadable ruleset: %s", strerror((int)-unreadable));
    cb_step shut[] = {km_step(SYS_landlock_restrict_self, unreadable, 0, 0)};
    if ((why = run(shut, 1, relaxed))) return km_fail("read-denying domain: %s", why);
    DIR *dir = opendir("/proc/self/task");
    if (dir) {
        closedir(dir);
        return km_fail("the read-denying domain still lets this thread open /proc/self/task");
    }
    // /proc cannot be read any more: each thread's own getegid is the kernel's view.
    cb_step change[] = {
        km_step(SYS_setresgid, KM_UNREADABLE_GID, KM_UNREADABLE_GID, KM_UNREADABLE_GID),
        {.nr = SYS_getegid, .expect = CB_EXPECT_VALUE, .value = KM_UNREADABLE_GID},
    };
    if ((why = run(change, 2, relaxed))) return km_fail("broadcast with /proc denied: %s", why);
    return km_pass("ABI %ld: %d threads: no_new_privs + no-mkdir domain (EACCES on each); %s; "
                   "/proc denied, then a broadcast checked by each thread's getegid",
                   abi, KM_LANDLOCK_THREADS + 1, scoped_note);
}
