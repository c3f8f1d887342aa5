// Loading a seccomp filter on every thread at once, with the kernel's own thread sync.
#ifndef CB_SECCOMP_H
#define CB_SECCOMP_H

#ifdef __cplusplus
extern "C" {
#endif

/// Loads the classic BPF program `filter_bytes` (`length` bytes: whole `struct sock_filter`s,
/// at most 65535 of them) with the raw
/// `seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)`, so the kernel
/// installs it on every thread of the process at once, or on none.
///
/// Returns the kernel's raw result: 0 when every thread has the filter; a positive tid
/// when that thread could not be synchronized (it has a filter of its own that the
/// caller's filters do not descend from) and no thread changed; or -errno (-EACCES
/// without no_new_privs or CAP_SYS_ADMIN, -EINVAL for a program the kernel rejects or
/// a length that is not whole instructions, -EFAULT, -ENOMEM).
long cb_seccomp_load_tsync(const void *filter_bytes, unsigned long length);

#ifdef __cplusplus
}
#endif
#endif
