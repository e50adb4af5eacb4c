/* The C ABI from C: results bit-identical to the Rust API's (the fixtures), strides,
 * metadata, progress, cancellation, and every error path with its message.
 *
 * Usage: test_abi FIXTURE_DIR [--valgrind]
 * FIXTURE_DIR is what tests/ffi_fixtures.rs (write_fixtures) wrote. --valgrind leaves
 * out the comparisons on the fixture cases (they take minutes under valgrind, whose
 * scalar emulation is about 1000 times slower) and deconvolves only tiny images.
 * Exits 0 if every check passed. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "fixtures.h"
#include "mrbcr.h"

/* True if the thread's last error message contains `part`. */
static int message_has(const char *part) {
    return strstr(mrbcr_last_error_message(), part) != NULL;
}

static mrbcr_image_in packed_in(const test_case *c, const void *data) {
    mrbcr_image_in in = {data, c->input_type, c->width, c->height, c->planes, 0, 0};
    return in;
}

static mrbcr_image_out packed_out(const test_case *c, void *data) {
    mrbcr_image_out out = {data, c->output_type, c->width, c->height, c->planes, 0, 0};
    return out;
}

static void test_versions(void) {
    CHECK(mrbcr_abi_version() == MRBCR_ABI_VERSION, "header and library ABI versions agree");
    CHECK(strlen(mrbcr_version()) > 0, "a version string");
    CHECK(strcmp(mrbcr_last_error_message(), "") == 0, "no error before any call");
}

static void test_metadata(const mrbcr_model *model) {
    size_t count = 0;
    CHECK(mrbcr_model_metadata_count(model, &count) == MRBCR_STATUS_OK, "metadata count");
    CHECK(count == 9, "8 standard keys and test_key");
    const char *value = NULL;
    size_t len = 0;
    CHECK(mrbcr_model_metadata(model, "name", &value, &len) == MRBCR_STATUS_OK, "name");
    CHECK(value && strcmp(value, "ffi-test") == 0 && len == 8, "the name");
    CHECK(mrbcr_model_metadata(model, "train_patch_size", &value, NULL) == MRBCR_STATUS_OK &&
              strcmp(value, "128") == 0,
          "train_patch_size, length not asked");
    CHECK(mrbcr_model_metadata(model, "provenance", &value, &len) == MRBCR_STATUS_OK &&
              strcmp(value, "") == 0 && len == 0,
          "an empty standard key is present");
    CHECK(mrbcr_model_metadata(model, "test_key", &value, &len) == MRBCR_STATUS_OK &&
              strcmp(value, "test value") == 0,
          "an extra key");
    const char *key = NULL;
    CHECK(mrbcr_model_metadata_key(model, 0, &key) == MRBCR_STATUS_OK && strcmp(key, "name") == 0,
          "the first key is name");
    CHECK(mrbcr_model_metadata_key(model, 7, &key) == MRBCR_STATUS_OK &&
              strcmp(key, "tile_overlap") == 0,
          "the last standard key");
    CHECK(mrbcr_model_metadata_key(model, 8, &key) == MRBCR_STATUS_OK &&
              strcmp(key, "test_key") == 0,
          "extra keys come after the standard ones");

    const char *untouched = "untouched";
    value = untouched;
    CHECK(mrbcr_model_metadata(model, "nope", &value, &len) == MRBCR_STATUS_INVALID_INPUT,
          "an unknown key");
    CHECK(message_has("no metadata entry 'nope'"), "the message names the key");
    CHECK(value == untouched, "out-parameters are not written on failure");
    key = untouched;
    CHECK(mrbcr_model_metadata_key(model, 9, &key) == MRBCR_STATUS_INVALID_INPUT, "index 9");
    CHECK(message_has("index 9 is out of range"), "the message names the index");
    CHECK(key == untouched, "out-parameters are not written on failure");
    CHECK(mrbcr_model_metadata(model, NULL, &value, &len) == MRBCR_STATUS_NULL_PARAMETER,
          "NULL key");
    CHECK(message_has("'key'"), "the message names the parameter");
    CHECK(mrbcr_model_metadata(NULL, "name", &value, &len) == MRBCR_STATUS_NULL_PARAMETER,
          "NULL model");
    CHECK(mrbcr_model_metadata(model, "name", NULL, &len) == MRBCR_STATUS_NULL_PARAMETER,
          "NULL value_out");
    CHECK(mrbcr_model_metadata_count(model, NULL) == MRBCR_STATUS_NULL_PARAMETER,
          "NULL count_out");
    CHECK(mrbcr_model_metadata_key(NULL, 0, &key) == MRBCR_STATUS_NULL_PARAMETER,
          "NULL model");
}

/* Deconvolves case `c` with packed buffers and `threads` workers; compares with the
 * Rust API's result `expected` (unless NULL). */
static void test_case_packed(const mrbcr_model *model, const test_case *c, const void *input,
                             const void *expected, size_t threads) {
    size_t out_bytes = case_pixels(c) * pixel_size(c->output_type);
    void *output = malloc(out_bytes);
    memset(output, 0xAB, out_bytes);
    mrbcr_options *options = case_options(c, threads);
    mrbcr_image_in in = packed_in(c, input);
    mrbcr_image_out out = packed_out(c, output);
    char what[160];
    snprintf(what, sizeof what, "%.63s with %zu thread(s): deconvolve", c->name, threads);
    CHECK(mrbcr_deconvolve(model, options, &in, &out, NULL, NULL) == MRBCR_STATUS_OK, what);
    snprintf(what, sizeof what, "%.63s with %zu thread(s): bit-identical to the Rust API", c->name,
             threads);
    CHECK(!expected || memcmp(output, expected, out_bytes) == 0, what);
    CHECK(strcmp(mrbcr_last_error_message(), "") == 0, "success clears the last error");
    mrbcr_options_free(options);
    free(output);
}

/* The same with rows padded by 5 pixels and 3 spare rows between planes, in and out. */
static void test_case_strided(const mrbcr_model *model, const test_case *c, const void *input,
                              const void *expected) {
    size_t in_px = pixel_size(c->input_type), out_px = pixel_size(c->output_type);
    size_t in_row = (c->width + 5) * in_px, out_row = (c->width + 5) * out_px;
    size_t in_plane = (c->height + 3) * in_row, out_plane = (c->height + 3) * out_row;
    unsigned char *in_buf = calloc(c->planes, in_plane);
    unsigned char *out_buf = calloc(c->planes, out_plane);
    for (size_t p = 0; p < c->planes; p++) {
        for (size_t y = 0; y < c->height; y++) {
            memcpy(in_buf + p * in_plane + y * in_row,
                   (const unsigned char *)input + ((p * c->height + y) * c->width) * in_px,
                   c->width * in_px);
        }
    }
    mrbcr_options *options = case_options(c, 0);
    mrbcr_image_in in = {in_buf, c->input_type, c->width, c->height, c->planes, in_row, in_plane};
    mrbcr_image_out out = {out_buf,  c->output_type, c->width, c->height,
                           c->planes, out_row,        out_plane};
    CHECK(mrbcr_deconvolve(model, options, &in, &out, NULL, NULL) == MRBCR_STATUS_OK,
          "deconvolve with padded strides");
    int same = 1;
    for (size_t p = 0; p < c->planes; p++) {
        for (size_t y = 0; y < c->height; y++) {
            same &= memcmp(out_buf + p * out_plane + y * out_row,
                           (const unsigned char *)expected +
                               ((p * c->height + y) * c->width) * out_px,
                           c->width * out_px) == 0;
        }
    }
    char what[160];
    snprintf(what, sizeof what, "%.63s with padded strides: bit-identical to the Rust API", c->name);
    CHECK(same, what);
    mrbcr_options_free(options);
    free(in_buf);
    free(out_buf);
}

/* Progress and cancellation on case `c`; `expected` (or NULL) is its result. */
static void test_progress_and_cancel(const mrbcr_model *model, const test_case *c,
                                     const void *input, const void *expected) {
    size_t out_bytes = case_pixels(c) * pixel_size(c->output_type);
    unsigned char *output = malloc(out_bytes);
    mrbcr_options *options = case_options(c, 2);
    mrbcr_image_in in = packed_in(c, input);
    mrbcr_image_out out = packed_out(c, output);

    progress_log *log = calloc(1, sizeof *log);
    CHECK(mrbcr_deconvolve(model, options, &in, &out, record_progress, log) == MRBCR_STATUS_OK,
          "deconvolve with progress");
    CHECK(!expected || memcmp(output, expected, out_bytes) == 0,
          "progress does not change the result");
    CHECK(log->calls > 1, "progress is reported after each tile");
    int increasing = 1;
    for (size_t i = 1; i < log->calls; i++) {
        increasing &= log->fractions[i] > log->fractions[i - 1];
    }
    CHECK(increasing && log->fractions[0] > 0.0, "fractions increase from above 0");
    CHECK(log->fractions[log->calls - 1] == 1.0, "the last fraction is 1");

    memset(log, 0, sizeof *log);
    log->cancel_at = 2;
    memset(output, 0xAB, out_bytes);
    CHECK(mrbcr_deconvolve(model, options, &in, &out, record_progress, log) ==
              MRBCR_STATUS_CANCELLED,
          "returning 0 from the callback cancels");
    CHECK(message_has("cancelled"), "the message says cancelled");
    CHECK(log->calls == 2, "no callback after the cancelling one");
    int zero = 1;
    for (size_t i = 0; i < out_bytes; i++) zero &= output[i] == 0;
    CHECK(zero, "a cancelled run leaves the output zeroed");

    free(log);
    mrbcr_options_free(options);
    free(output);
}

static void test_model_errors(const char *dir) {
    mrbcr_model *const untouched = (mrbcr_model *)&failures; /* any non-NULL sentinel */
    mrbcr_model *model = untouched;
    CHECK(mrbcr_model_load(NULL, &model) == MRBCR_STATUS_NULL_PARAMETER, "NULL path");
    CHECK(message_has("'path'"), "the message names the parameter");
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(mrbcr_model_load(path, NULL) == MRBCR_STATUS_NULL_PARAMETER, "NULL model_out");
    CHECK(message_has("'model_out'"), "the message names the parameter");

    snprintf(path, sizeof path, "%s/no-such-model.safetensors", dir);
    CHECK(mrbcr_model_load(path, &model) == MRBCR_STATUS_IO, "a missing file");
    CHECK(message_has("no-such-model.safetensors") && message_has("No such file"),
          "the message names the file and the reason");
    CHECK(model == untouched, "out-parameters are not written on failure");

    CHECK(mrbcr_model_load(dir, &model) == MRBCR_STATUS_MODEL_FILE && message_has("not a regular file"),
          "a directory is refused before it is read");

    snprintf(path, sizeof path, "%s/cases.txt", dir);
    CHECK(mrbcr_model_load(path, &model) == MRBCR_STATUS_MODEL_FILE, "not a model file");
    CHECK(message_has("cases.txt") && message_has("safetensors"),
          "the message names the file and the problem");

    const uint8_t garbage[16] = {1, 2, 3};
    CHECK(mrbcr_model_from_bytes(garbage, sizeof garbage, &model) == MRBCR_STATUS_MODEL_FILE,
          "garbage bytes");
    CHECK(message_has("(model in memory)"), "the message names the source");
    CHECK(mrbcr_model_from_bytes(NULL, 0, &model) == MRBCR_STATUS_NULL_PARAMETER, "NULL bytes");
    CHECK(mrbcr_model_from_bytes(garbage, SIZE_MAX, &model) == MRBCR_STATUS_INVALID_INPUT,
          "an impossible length");
    CHECK(message_has("larger than any object"), "the message says why");
    CHECK(model == untouched, "out-parameters are not written on failure");
    mrbcr_model_free(NULL); /* a no-op */
}

/* The getters read back what the setters set; fresh options hold the documented
 * defaults (those of `mrbcr deconvolve`). */
static void test_option_getters(void) {
    mrbcr_options *options = NULL;
    CHECK(mrbcr_options_new(&options) == MRBCR_STATUS_OK, "options_new");
    size_t tile = 1, overlap = 1, threads = 1, length = 0;
    uint32_t range = 9;
    uint64_t memory = 1;
    CHECK(mrbcr_options_get(options, &tile, &overlap, &range, &threads, &memory) ==
              MRBCR_STATUS_OK,
          "options_get");
    CHECK(tile == 1024 && overlap == MRBCR_OVERLAP_OF_MODEL &&
              range == MRBCR_OUTPUT_RANGE_INPUT && threads == 0 && memory == 0,
          "the defaults");
    uint32_t output_type = 9;
    CHECK(mrbcr_deconvolve_defaults(&output_type) == MRBCR_STATUS_OK &&
              output_type == MRBCR_PIXEL_TYPE_F32,
          "the default output pixel type");
    CHECK(mrbcr_deconvolve_defaults(NULL) == MRBCR_STATUS_NULL_PARAMETER &&
              message_has("'output_pixel_type_out'"),
          "NULL output_pixel_type_out");
    CHECK(mrbcr_options_set_overlap(options, 40) == MRBCR_STATUS_OK &&
              mrbcr_options_get(options, NULL, &overlap, NULL, NULL, NULL) == MRBCR_STATUS_OK &&
              overlap == 40,
          "an overlap set");
    CHECK(mrbcr_options_set_overlap(options, MRBCR_OVERLAP_OF_MODEL) == MRBCR_STATUS_OK &&
              mrbcr_options_get(options, NULL, &overlap, NULL, NULL, NULL) == MRBCR_STATUS_OK &&
              overlap == MRBCR_OVERLAP_OF_MODEL,
          "back to the model's overlap");
    char text[32];
    CHECK(mrbcr_options_get_normalization(options, NULL, 0, &length) == MRBCR_STATUS_OK &&
              length == strlen("percentile:1:99.8"),
          "the normalisation's length");
    CHECK(mrbcr_options_get_normalization(options, text, sizeof text, &length) ==
                  MRBCR_STATUS_OK &&
              strcmp(text, "percentile:1:99.8") == 0,
          "the default normalisation");
    CHECK(mrbcr_options_get_normalization(options, text, length, &length) ==
              MRBCR_STATUS_INVALID_INPUT,
          "no room for the NUL");
    CHECK(message_has("needs 18 bytes"), "the message gives the size");
    CHECK(mrbcr_options_get_normalization(options, NULL, 4, &length) ==
              MRBCR_STATUS_NULL_PARAMETER,
          "NULL buffer with a capacity");
    CHECK(mrbcr_options_get_normalization(options, text, sizeof text, NULL) ==
              MRBCR_STATUS_NULL_PARAMETER,
          "NULL length_out");
    CHECK(mrbcr_options_set_tile(options, 256) == MRBCR_STATUS_OK &&
              mrbcr_options_set_output_range(options, MRBCR_OUTPUT_RANGE_NORMALIZED) ==
                  MRBCR_STATUS_OK &&
              mrbcr_options_set_normalization(options, "minmax") == MRBCR_STATUS_OK,
          "setters");
    CHECK(mrbcr_options_get(options, &tile, NULL, &range, NULL, NULL) == MRBCR_STATUS_OK &&
              tile == 256 && range == MRBCR_OUTPUT_RANGE_NORMALIZED,
          "read back, NULL out-pointers skipped");
    CHECK(mrbcr_options_get_normalization(options, text, sizeof text, &length) ==
                  MRBCR_STATUS_OK &&
              strcmp(text, "minmax") == 0,
          "the normalisation read back");
    CHECK(mrbcr_options_get(NULL, &tile, NULL, NULL, NULL, NULL) == MRBCR_STATUS_NULL_PARAMETER,
          "NULL options");
    mrbcr_options_free(options);
}

static void test_option_errors(void) {
    CHECK(mrbcr_options_new(NULL) == MRBCR_STATUS_NULL_PARAMETER, "NULL options_out");
    mrbcr_options *options = NULL;
    CHECK(mrbcr_options_new(&options) == MRBCR_STATUS_OK && options != NULL, "options_new");
    CHECK(mrbcr_options_set_tile(options, 30) == MRBCR_STATUS_INVALID_INPUT, "tile 30");
    CHECK(message_has("tile size 30"), "the message names the tile size");
    CHECK(mrbcr_options_set_tile(options, 130) == MRBCR_STATUS_INVALID_INPUT, "tile 130");
    CHECK(mrbcr_options_set_tile(options, 0) == MRBCR_STATUS_OK, "tile 0 (whole planes)");
    CHECK(mrbcr_options_set_tile(NULL, 32) == MRBCR_STATUS_NULL_PARAMETER, "NULL options");
    CHECK(message_has("'options'"), "the message names the parameter");
    CHECK(mrbcr_options_set_normalization(options, "gauss") == MRBCR_STATUS_INVALID_INPUT,
          "an unknown normalisation");
    CHECK(message_has("unknown normalisation 'gauss'"), "the message quotes the text");
    CHECK(mrbcr_options_set_normalization(options, "percentile:x:99") ==
              MRBCR_STATUS_INVALID_INPUT,
          "a percentile that is not a number");
    CHECK(message_has("percentile 'x'"), "the message quotes the number");
    CHECK(mrbcr_options_set_normalization(options, "\xff") == MRBCR_STATUS_INVALID_INPUT,
          "not UTF-8");
    CHECK(message_has("not valid UTF-8"), "the message says so");
    CHECK(mrbcr_options_set_normalization(options, NULL) == MRBCR_STATUS_NULL_PARAMETER,
          "NULL text");
    CHECK(mrbcr_options_set_normalization(options, "per-tile-minmax") == MRBCR_STATUS_OK,
          "a valid text");
    CHECK(mrbcr_options_set_percentiles(options, 99.0, 1.0) == MRBCR_STATUS_INVALID_INPUT,
          "low above high");
    CHECK(message_has("0 <= low < high <= 100"), "the message gives the rule");
    CHECK(mrbcr_options_set_percentiles(options, NAN, 99.0) == MRBCR_STATUS_INVALID_INPUT,
          "NaN percentile");
    CHECK(mrbcr_options_set_percentiles(options, 0.5, 99.5) == MRBCR_STATUS_OK, "percentiles");
    CHECK(mrbcr_options_set_output_range(options, 7) == MRBCR_STATUS_INVALID_INPUT,
          "an unknown output range");
    CHECK(message_has("unknown output range 7"), "the message names the value");
    CHECK(mrbcr_options_set_output_range(options, MRBCR_OUTPUT_RANGE_NORMALIZED) ==
              MRBCR_STATUS_OK,
          "output range");
    CHECK(mrbcr_options_set_overlap(NULL, 8) == MRBCR_STATUS_NULL_PARAMETER, "NULL options");
    CHECK(mrbcr_options_set_threads(NULL, 1) == MRBCR_STATUS_NULL_PARAMETER, "NULL options");
    CHECK(mrbcr_options_set_percentiles(NULL, 1, 2) == MRBCR_STATUS_NULL_PARAMETER,
          "NULL options");
    CHECK(mrbcr_options_set_output_range(NULL, 0) == MRBCR_STATUS_NULL_PARAMETER,
          "NULL options");
    mrbcr_options_free(options);
    mrbcr_options_free(NULL); /* a no-op */
}

/* Runs a deconvolution of an 80 x 64 x 2 u16 image expected to fail with `status` and a
 * message containing `part`. */
static void expect_failure(const mrbcr_model *model, const mrbcr_options *options,
                           const mrbcr_image_in *in, const mrbcr_image_out *out,
                           mrbcr_status status, const char *part, const char *what) {
    char line[200];
    snprintf(line, sizeof line, "%s: status %d", what, (int)status);
    CHECK(mrbcr_deconvolve(model, options, in, out, NULL, NULL) == status, line);
    snprintf(line, sizeof line, "%s: the message contains '%s'", what, part);
    CHECK(message_has(part), line);
}

static void test_deconvolve_errors(const mrbcr_model *model) {
    enum { W = 80, H = 64, P = 2 };
    uint16_t *input = calloc(W * H * P + 8, sizeof *input);
    uint16_t *output = calloc(W * H * P + 8, sizeof *output);
    for (size_t i = 0; i < W * H * P; i++) input[i] = (uint16_t)(i * 7919 % 4096);
    mrbcr_options *options = NULL;
    mrbcr_options_new(&options);
    mrbcr_options_set_tile(options, 32);
    mrbcr_options_set_overlap(options, 8);
    const mrbcr_image_in good_in = {input, MRBCR_PIXEL_TYPE_U16, W, H, P, 0, 0};
    const mrbcr_image_out good_out = {output, MRBCR_PIXEL_TYPE_U16, W, H, P, 0, 0};
    mrbcr_image_in in;
    mrbcr_image_out out;

    expect_failure(NULL, options, &good_in, &good_out, MRBCR_STATUS_NULL_PARAMETER, "'model'",
                   "NULL model");
    expect_failure(model, options, NULL, &good_out, MRBCR_STATUS_NULL_PARAMETER, "'input'",
                   "NULL input");
    expect_failure(model, options, &good_in, NULL, MRBCR_STATUS_NULL_PARAMETER, "'output'",
                   "NULL output");
    in = good_in, in.data = NULL;
    expect_failure(model, options, &in, &good_out, MRBCR_STATUS_NULL_PARAMETER, "'input->data'",
                   "NULL input data");
    out = good_out, out.data = NULL;
    expect_failure(model, options, &good_in, &out, MRBCR_STATUS_NULL_PARAMETER,
                   "'output->data'", "NULL output data");
    in = good_in, in.pixel_type = 9;
    expect_failure(model, options, &in, &good_out, MRBCR_STATUS_INVALID_INPUT,
                   "input's pixel type 9", "an unknown pixel type");
    in = good_in, in.width = 0;
    expect_failure(model, options, &in, &good_out, MRBCR_STATUS_INVALID_INPUT,
                   "the input is empty", "a zero width");
    out = good_out, out.planes = 0;
    expect_failure(model, options, &good_in, &out, MRBCR_STATUS_INVALID_INPUT,
                   "the output is empty", "zero planes");
    in = good_in, in.row_stride = 2 * W + 1;
    expect_failure(model, options, &in, &good_out, MRBCR_STATUS_INVALID_INPUT,
                   "row stride 161 bytes must be a multiple of 2", "an odd row stride");
    in = good_in, in.row_stride = 2 * W - 2;
    expect_failure(model, options, &in, &good_out, MRBCR_STATUS_INVALID_INPUT,
                   "of at least 160", "a row stride below the row");
    out = good_out, out.plane_stride = 2 * W * (H - 1);
    expect_failure(model, options, &good_in, &out, MRBCR_STATUS_INVALID_INPUT,
                   "output's plane stride", "a plane stride below the plane");
    in = good_in, in.width = SIZE_MAX / 2;
    expect_failure(model, options, &in, &good_out, MRBCR_STATUS_INVALID_INPUT,
                   "larger than the address space", "a width that overflows");
    in = good_in, in.planes = SIZE_MAX / (2 * W * H) + 1;
    expect_failure(model, options, &in, &good_out, MRBCR_STATUS_INVALID_INPUT,
                   "larger than the address space", "planes that overflow");
    in = good_in, in.data = (const char *)input + 1;
    expect_failure(model, options, &in, &good_out, MRBCR_STATUS_INVALID_INPUT, "not aligned",
                   "a misaligned pointer");
    out = good_out, out.width = W - 4;
    expect_failure(model, options, &good_in, &out, MRBCR_STATUS_INVALID_INPUT,
                   "must have the input's dimensions", "different dimensions");
    out = good_out, out.data = input + 8;
    expect_failure(model, options, &good_in, &out, MRBCR_STATUS_INVALID_INPUT, "overlaps",
                   "output overlapping the input");

    mrbcr_options_set_overlap(options, 32);
    expect_failure(model, options, &good_in, &good_out, MRBCR_STATUS_INVALID_INPUT,
                   "overlap 32 must be smaller than the tile size 32", "overlap = tile");
    mrbcr_options_set_overlap(options, 8);
    mrbcr_options_set_output_range(options, MRBCR_OUTPUT_RANGE_NORMALIZED);
    expect_failure(model, options, &good_in, &good_out, MRBCR_STATUS_INVALID_INPUT,
                   "needs the output range 'input'", "normalised range into u16");
    mrbcr_options_set_output_range(options, MRBCR_OUTPUT_RANGE_INPUT);

    float *floats = calloc(W * H * P, sizeof *floats);
    floats[W * H + 3 * W + 5] = NAN; /* plane 1, row 3, column 5 */
    in = good_in, in.data = floats, in.pixel_type = MRBCR_PIXEL_TYPE_F32;
    expect_failure(model, options, &in, &good_out, MRBCR_STATUS_INVALID_INPUT,
                   "plane 2 holds a non-finite value (NaN) at row 3, column 5",
                   "a NaN input value");
    free(floats);

    /* The whole 80 x 64 plane as one tile needs about 7 MiB: refused under 2 MiB, with
     * the output untouched; tiles of 32 fit and run under the same limit. */
    for (size_t i = 0; i < W * H * P; i++) output[i] = 7;
    mrbcr_options_set_tile(options, 0);
    CHECK(mrbcr_options_set_memory_limit(options, 2 << 20) == MRBCR_STATUS_OK, "memory limit");
    expect_failure(model, options, &good_in, &good_out, MRBCR_STATUS_OUT_OF_MEMORY,
                   "not enough memory", "a whole plane over the memory limit");
    CHECK(message_has("tile 0"), "the message names whole-plane mode");
    CHECK(output[0] == 7 && output[W * H * P - 1] == 7, "the output is untouched");
    mrbcr_options_set_tile(options, 32);
    CHECK(mrbcr_deconvolve(model, options, &good_in, &good_out, NULL, NULL) == MRBCR_STATUS_OK,
          "tiles within the memory limit");
    CHECK(mrbcr_options_set_memory_limit(NULL, 0) == MRBCR_STATUS_NULL_PARAMETER,
          "memory limit on NULL options");
    mrbcr_options_set_memory_limit(options, 0);

    /* An 8 x 8 corner, whole (cheap under valgrind), rows 80 pixels apart. */
    mrbcr_options_set_tile(options, 0);
    in = good_in, in.width = 8, in.height = 8, in.planes = 1, in.row_stride = 2 * W;
    out = good_out, out.width = 8, out.height = 8, out.planes = 1;
    CHECK(mrbcr_deconvolve(model, options, &in, &out, NULL, NULL) == MRBCR_STATUS_OK,
          "the library is usable after errors");
    mrbcr_options_free(options);
    free(input);
    free(output);
}

/* A model from bytes in memory gives the same results as one loaded from its file
 * (`expected`, or NULL to only run it). */
static void test_model_from_bytes(const char *dir, const test_case *c, const void *input,
                                  const void *expected) {
    size_t len = 0;
    void *bytes = read_fixture(dir, "model", ".safetensors", &len);
    mrbcr_model *model = NULL;
    CHECK(mrbcr_model_from_bytes(bytes, len, &model) == MRBCR_STATUS_OK, "model from bytes");
    free(bytes); /* the library copied them */
    size_t count = 0;
    CHECK(mrbcr_model_metadata_count(model, &count) == MRBCR_STATUS_OK && count == 9,
          "the metadata of a model from bytes");
    test_case_packed(model, c, input, expected, 1);
    mrbcr_model_free(model);
}

/* The bundled default model gives the Rust API's result on the first case
 * (default.out, written by the fixture writer with Model::bundled()). */
static void test_default_model(const char *dir, const test_case *c, const void *input) {
    CHECK(mrbcr_model_new_default(NULL) == MRBCR_STATUS_NULL_PARAMETER, "NULL model_out");
    CHECK(message_has("'model_out'"), "the message names the parameter");
    mrbcr_model *model = NULL;
    CHECK(mrbcr_model_new_default(&model) == MRBCR_STATUS_OK && model != NULL,
          "the bundled default model");
    const char *value = NULL;
    CHECK(mrbcr_model_metadata(model, "provenance", &value, NULL) == MRBCR_STATUS_OK &&
              strstr(value, "trained by mrbcr train") == value,
          "its metadata tells how it was made");
    CHECK(mrbcr_model_metadata(model, "data.source", &value, NULL) == MRBCR_STATUS_OK &&
              strstr(value, "simulator") != NULL,
          "and on what data");
    size_t len = 0;
    void *expected = read_fixture(dir, "default", ".out", &len);
    test_case_packed(model, c, input, expected, 1);
    free(expected);
    mrbcr_model_free(model);
}

/* Number of threads of this process (Linux). */
static int thread_count(void) {
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return 1;
    int count = 0;
    for (struct dirent *entry; (entry = readdir(tasks));) count += entry->d_name[0] != '.';
    closedir(tasks);
    return count;
}

/* The library's worker threads end on their own shortly after each run: wait (up to
 * 10 s) until they are gone, so that the leak check at exit does not report the
 * memory of threads that are still exiting. */
static void wait_for_worker_threads(void) {
    const struct timespec pause = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 1000 && thread_count() > 1; i++) nanosleep(&pause, NULL);
    CHECK(thread_count() == 1, "no worker thread outlives the calls for long");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR [--valgrind]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int valgrind = argc > 2 && strcmp(argv[2], "--valgrind") == 0;
    test_versions();

    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    mrbcr_model *model = NULL;
    if (mrbcr_model_load(path, &model) != MRBCR_STATUS_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, mrbcr_last_error_message());
        return 1;
    }
    test_metadata(model);

    test_case cases[16];
    size_t n = valgrind ? 0 : read_cases(dir, cases, 16);
    for (size_t i = 0; i < n; i++) {
        size_t in_len = 0, out_len = 0;
        void *input = read_fixture(dir, cases[i].name, ".in", &in_len);
        void *expected = read_fixture(dir, cases[i].name, ".out", &out_len);
        if (in_len != case_pixels(&cases[i]) * pixel_size(cases[i].input_type) ||
            out_len != case_pixels(&cases[i]) * pixel_size(cases[i].output_type)) {
            fprintf(stderr, "fixture sizes of %s do not match cases.txt\n", cases[i].name);
            return 2;
        }
        test_case_packed(model, &cases[i], input, expected, 1);
        test_case_packed(model, &cases[i], input, expected, 2);
        test_case_strided(model, &cases[i], input, expected);
        if (i == 0) {
            test_progress_and_cancel(model, &cases[i], input, expected);
            test_model_from_bytes(dir, &cases[i], input, expected);
            test_default_model(dir, &cases[i], input);
        }
        free(input);
        free(expected);
    }
    if (valgrind) {
        /* Two 8 x 8 planes, each deconvolved whole: two progress reports. */
        test_case tiny = {"tiny", MRBCR_PIXEL_TYPE_U16, MRBCR_PIXEL_TYPE_F32, 8, 8, 2, 0, 0,
                          "minmax", MRBCR_OUTPUT_RANGE_INPUT};
        uint16_t input[8 * 8 * 2];
        for (size_t i = 0; i < 8 * 8 * 2; i++) input[i] = (uint16_t)(i * 37 % 101);
        test_progress_and_cancel(model, &tiny, input, NULL);
        test_model_from_bytes(dir, &tiny, input, NULL);
    }

    test_model_errors(dir);
    test_option_getters();
    test_option_errors();
    test_deconvolve_errors(model);
    mrbcr_model_free(model);
    wait_for_worker_threads();

    printf("test_abi: %d checks, %d failed (%zu fixture cases%s)\n", checks, failures, n,
           valgrind ? ", tiny images for valgrind" : "");
    return failures == 0 ? 0 : 1;
}
