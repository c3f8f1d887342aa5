// Kernel ABI constants for Swift: system call numbers (SYS_*) and prctl
// options, which Swift's Glibc module does not import.
#ifndef CB_LINUX_ABI_H
#define CB_LINUX_ABI_H
#include <sys/syscall.h>
#include <linux/prctl.h>
#endif
