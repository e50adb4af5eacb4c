/* The checks of the C tests: each counted, a failure printed with the library's last
 * error message. Include once per test program (the counters are its own). */
#ifndef MRBCR_TEST_CHECK_H
#define MRBCR_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "mrbcr.h"

static int failures = 0;
static int checks = 0;

/* Records a check; on failure prints it with the library's last error message. */
#define CHECK(cond, what)                                                              \
    do {                                                                               \
        checks++;                                                                      \
        if (!(cond)) {                                                                 \
            failures++;                                                                \
            fprintf(stderr, "%s:%d: FAILED: %s (%s); last error: '%s'\n", __FILE__,     \
                    __LINE__, what, #cond, mrbcr_last_error_message());                \
        }                                                                              \
    } while (0)

#endif
