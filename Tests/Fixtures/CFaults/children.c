// Children that broadcast: a fork-like child made while another thread of the
// parent may hold the broadcast lock, and a vfork child, which shares its
// parent's memory. The child runs only C (it calls the engine directly) and
// leaves with _exit, so nothing of the parent's runtime runs in it.
#define _GNU_SOURCE
#include "CFaults.h"

#include <CBroadcast.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/// The child's deadline for its own broadcast.
#define CW_CHILD_TIMEOUT_NS 3000000000LL
/// Timer slack the child broadcasts (any value works: it changes only the child).
#define CW_CHILD_SLACK 123457

static int child_broadcast(void) {
    long args[6] = {PR_SET_TIMERSLACK, CW_CHILD_SLACK, 0, 0, 0, 0};
    cb_options options = {.timeout_ns = CW_CHILD_TIMEOUT_NS, .signal = CB_DEFAULT_SIGNAL};
    cb_report report;
    cb_broadcast(SYS_prctl, args, &options, &report);
    if (report.status == CB_OK) return CW_CHILD_OK;
    if (report.status == CB_SETUP_FAILED && report.setup_errno == EPERM) return CW_CHILD_REFUSED;
    return CW_CHILD_FAILED + report.status;
}

// Makes unshare() fail with EPERM on the calling thread, as container runtimes' default
// seccomp profiles do: the engine cannot prove it is alone that way and takes its usual path.
static int deny_unshare(void) {
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {.len = sizeof code / sizeof code[0], .filter = code};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program);
}

int cw_child_broadcast(cw_child_kind kind) {
    pid_t pid;
    switch (kind) {
    case CW_CHILD_FORK: pid = _Fork(); break;
    case CW_CHILD_RAW_CLONE: pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0); break;
    case CW_CHILD_VFORK:
    case CW_CHILD_VFORK_SANDBOXED: pid = vfork(); break;
    default: return -EINVAL;
    }
    if (pid < 0) return -errno;
    if (pid == 0) {
        if (kind == CW_CHILD_VFORK_SANDBOXED && deny_unshare() != 0) _exit(CW_CHILD_SETUP);
        _exit(child_broadcast());
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -errno;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
