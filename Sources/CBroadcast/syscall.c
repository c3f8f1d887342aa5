// A raw system call on the calling thread, for Swift code that needs one call
// the engine does not broadcast (probing a capability, building a ruleset).
#include "cb_linux_abi.h"
#include "internal.h"

long cb_syscall(long nr, long a, long b, long c, long d, long e, long f) { return cb_sys6(nr, a, b, c, d, e, f); }
