#ifndef C_AUXILIARY_VECTOR_H
#define C_AUXILIARY_VECTOR_H

/// 1 when the kernel started this process in secure-execution mode (the AT_SECURE entry of
/// its auxiliary vector: a set-user-ID or set-group-ID file, file capabilities, or an LSM
/// transition), else 0.
///
/// Swift's Glibc module does not import <sys/auxv.h>, so getauxval is reached from here.
int cav_secure_execution(void);

#endif
