// kmtests: runs one kernel-matrix test (`kmtests <test> strict|relaxed`) or prints the kernel
// facts (`kmtests probe`). See km.h.
#define _GNU_SOURCE
#include "km.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "probe") == 0) return km_probe();
    if (argc != 3 || (strcmp(argv[2], "strict") != 0 && strcmp(argv[2], "relaxed") != 0)) {
        fprintf(stderr, "usage: kmtests probe | kmtests <test> strict|relaxed\n");
        return 2;
    }
    bool relaxed = strcmp(argv[2], "relaxed") == 0;
#define KM_RUN(name, modes) \
    if (strcmp(argv[1], #name) == 0) return ((modes) & (relaxed ? KM_RELAXED : KM_STRICT)) ? km_test_##name(relaxed) : 2;
    KM_TESTS(KM_RUN)
#undef KM_RUN
    fprintf(stderr, "kmtests: no test %s\n", argv[1]);
    return 2;
}
