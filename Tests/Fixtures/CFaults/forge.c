// Signals a scenario sends on purpose: glibc's own setxid broadcast, and
// forged real-time signals from another process.
#define _GNU_SOURCE
#include <grp.h>
#include "CFaults.h"

#include <errno.h>
#include <gnu/libc-version.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *cw_glibc_version(void) { return gnu_get_libc_version(); }

int cw_glibc_setresuid(int ruid, int euid, int suid) {
    return setresuid((uid_t)ruid, (uid_t)euid, (uid_t)suid) == 0 ? 0 : -errno;
}

int cw_glibc_credential_drop(unsigned uid, unsigned gid) {
    if (setgroups(0, NULL) != 0) return -errno;
    if (setresgid(gid, gid, gid) != 0) return -errno;
    return setresuid(uid, uid, uid) == 0 ? 0 : -errno;
}

int cw_forge_signal(int pid, int tid, int kernel_signal, int claimed_pid, unsigned long long value) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = kernel_signal;
    info.si_code = SI_QUEUE;
    info.si_pid = claimed_pid;
    info.si_uid = getuid();
    info.si_value.sival_ptr = (void *)(unsigned long)value;
    return syscall(SYS_rt_tgsigqueueinfo, pid, tid, kernel_signal, &info) == 0 ? 0 : -errno;
}
