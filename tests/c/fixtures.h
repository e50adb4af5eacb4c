/* Reading the fixtures tests/ffi_fixtures.rs writes (write_fixtures): the test
 * model, and for each case of cases.txt an input and the Rust API's result. */
#ifndef MRBCR_TEST_FIXTURES_H
#define MRBCR_TEST_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "mrbcr.h"

/* One line of cases.txt. */
typedef struct test_case {
    char name[64];
    uint32_t input_type;  /* an mrbcr_pixel_type */
    uint32_t output_type; /* an mrbcr_pixel_type */
    size_t width, height, planes, tile, overlap;
    char normalization[64];
    uint32_t output_range; /* an mrbcr_output_range */
} test_case;

/* The cases of <dir>/cases.txt, at most `max`; exits with a message on failure. */
size_t read_cases(const char *dir, test_case *cases, size_t max);

/* The bytes of <dir>/<name><suffix>, malloc'ed (free them); exits on failure. */
void *read_fixture(const char *dir, const char *name, const char *suffix, size_t *len);

/* The size of a pixel of an mrbcr_pixel_type. */
size_t pixel_size(uint32_t pixel_type);

/* Number of pixels of a case. */
size_t case_pixels(const test_case *c);

/* Options for a case (the caller frees them); exits on failure. */
mrbcr_options *case_options(const test_case *c, size_t threads);

#endif
