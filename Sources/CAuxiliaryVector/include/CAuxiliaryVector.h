#ifndef C_AUXILIARY_VECTOR_H
#define C_AUXILIARY_VECTOR_H

#include <stdint.h>

/// 1 when the kernel started this process in secure-execution mode (the AT_SECURE entry of
/// its auxiliary vector: a set-user-ID or set-group-ID file, file capabilities, or an LSM
/// transition), else 0.
///
/// Swift's Glibc module does not import <sys/auxv.h>, so getauxval is reached from here.
int cav_secure_execution(void);

/// Releases the pages of the executable's relocation table (DT_RELA), which the dynamic
/// loader reads once before main and nothing reads again, from this process's memory; the
/// file's bytes map back in if anything reads them later. Returns the bytes released: 0 when
/// there is no table or it is not where a read-only segment holds it (nothing is done), -1 with
/// errno when madvise fails.
long cav_release_relocation_table(void);

/// The whole pages of the executable's relocation table (what cav_release_relocation_table
/// releases): 1 with their start and length, 0 when there is none to release.
int cav_relocation_table_pages(uintptr_t *first, uintptr_t *length);

#endif
