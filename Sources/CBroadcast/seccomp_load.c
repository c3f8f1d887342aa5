// The raw seccomp system call with SECCOMP_FILTER_FLAG_TSYNC (Swift cannot call the
// variadic syscall()). See include/cb_seccomp.h.
#define _GNU_SOURCE
#include "cb_seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

long cb_seccomp_load_tsync(const void *filter_bytes, unsigned long length) {
    const unsigned long instructions = length / sizeof(struct sock_filter);
    if (filter_bytes == NULL || length % sizeof(struct sock_filter) != 0 || instructions == 0
        || instructions > 0xffff) {
        return -EINVAL;
    }
    // The kernel only reads the program (it copies it before checking it).
    struct sock_fprog program = {
        .len = (unsigned short)instructions,
        .filter = (struct sock_filter *)(uintptr_t)filter_bytes,
    };
    // On a sync failure the kernel returns the tid (> 0), which syscall() passes on as is.
    long result = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &program);
    return result == -1 ? -errno : result;
}
