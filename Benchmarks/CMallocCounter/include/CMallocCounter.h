// Counts heap allocations in this process, for the benchmark's "allocations per
// broadcast" figure. Linked only into the benchmark executable: it defines
// malloc and friends, forwarding to glibc's __libc_* implementations.
#ifndef CMALLOCCOUNTER_H
#define CMALLOCCOUNTER_H

/// Starts counting allocations (from every thread) at zero.
void mc_start(void);

/// Stops counting and returns the allocations made since mc_start.
unsigned long mc_stop(void);

#endif
