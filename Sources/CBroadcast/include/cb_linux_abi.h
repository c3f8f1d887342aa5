// Kernel ABI for Swift: system call numbers (SYS_*), prctl options, capability,
// securebits, Landlock and namespace constants, which Swift's Glibc module does
// not import, and a non-variadic raw system call (Swift cannot call syscall(2)).
#ifndef CB_LINUX_ABI_H
#define CB_LINUX_ABI_H
#include <sys/syscall.h>
#include <linux/prctl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <linux/landlock.h>
#include <linux/sched.h>

/// Runs system call `nr` on the calling thread only; returns the kernel's raw
/// result (-errno on failure) and leaves errno alone.
long cb_syscall(long nr, long a, long b, long c, long d, long e, long f);
#endif
