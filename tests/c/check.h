/* The checks of the C tests: each counted, a failure printed with the library's last
 * error message; and a progress callback that records what it saw. Include once per
 * test program (the counters are its own). */
#ifndef MRBCR_TEST_CHECK_H
#define MRBCR_TEST_CHECK_H

#include <stddef.h>
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

/* Checks that `call` returned `status` and left a message containing `part`. */
#define EXPECT_FAILURE(call, status, part, what)                                       \
    do {                                                                               \
        CHECK((call) == (status), what ": the status");                                \
        CHECK(strstr(mrbcr_last_error_message(), part) != NULL,                        \
              what ": the message contains '" part "'");                               \
    } while (0)

/* What a progress callback saw. */
typedef struct progress_log {
    double fractions[4096];
    size_t calls;
    size_t cancel_at; /* return 0 at this call (1-based); 0 = never */
} progress_log;

/* A progress callback recording into the progress_log at `user_data`. */
static inline int record_progress(double fraction, void *user_data) {
    progress_log *log = user_data;
    if (log->calls < sizeof log->fractions / sizeof log->fractions[0]) {
        log->fractions[log->calls] = fraction;
    }
    log->calls++;
    return log->cancel_at == 0 || log->calls < log->cancel_at;
}

#endif
