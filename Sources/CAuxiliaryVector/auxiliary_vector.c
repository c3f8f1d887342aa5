#include "CAuxiliaryVector.h"

#include <errno.h>
#include <sys/auxv.h>

int cav_secure_execution(void) {
    errno = 0;
    unsigned long secure = getauxval(AT_SECURE);
    // Linux puts AT_SECURE in every ELF process's auxiliary vector, so a missing entry
    // (0 with ENOENT) should never happen; if it does, answer "secure": refusing to run is
    // safe, running privileged on a guess is not.
    if (secure == 0 && errno == ENOENT) return 1;
    return secure != 0;
}
