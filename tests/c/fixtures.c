/* See fixtures.h. */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "fixtures: %s: %s\n", what, detail);
    exit(2);
}

static uint32_t pixel_type_named(const char *code) {
    if (strcmp(code, "u8") == 0) return MRBCR_PIXEL_TYPE_U8;
    if (strcmp(code, "u16") == 0) return MRBCR_PIXEL_TYPE_U16;
    if (strcmp(code, "f32") == 0) return MRBCR_PIXEL_TYPE_F32;
    if (strcmp(code, "f64") == 0) return MRBCR_PIXEL_TYPE_F64;
    fail("unknown pixel type in cases.txt", code);
    return 0;
}

size_t read_cases(const char *dir, test_case *cases, size_t max) {
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) fail("cannot open", path);
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        if (n == max) fail("too many cases in", path);
        test_case *c = &cases[n];
        char in[8], out[8], range[16];
        if (sscanf(line, "%63s %7s %7s %zu %zu %zu %zu %zu %63s %15s", c->name, in, out,
                   &c->width, &c->height, &c->planes, &c->tile, &c->overlap,
                   c->normalization, range) != 10) {
            fail("bad line in cases.txt", line);
        }
        c->input_type = pixel_type_named(in);
        c->output_type = pixel_type_named(out);
        c->output_range = strcmp(range, "input") == 0 ? MRBCR_OUTPUT_RANGE_INPUT
                                                       : MRBCR_OUTPUT_RANGE_NORMALIZED;
        n++;
    }
    fclose(f);
    if (n == 0) fail("no cases in", path);
    return n;
}

void *read_fixture(const char *dir, const char *name, const char *suffix, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
    FILE *f = fopen(path, "rb");
    if (!f) fail("cannot open", path);
    if (fseek(f, 0, SEEK_END) != 0) fail("cannot seek", path);
    long size = ftell(f);
    if (size <= 0) fail("empty or unreadable", path);
    rewind(f);
    void *bytes = malloc((size_t)size);
    if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) fail("cannot read", path);
    fclose(f);
    *len = (size_t)size;
    return bytes;
}

size_t pixel_size(uint32_t pixel_type) {
    switch (pixel_type) {
    case MRBCR_PIXEL_TYPE_U8: return 1;
    case MRBCR_PIXEL_TYPE_U16: return 2;
    case MRBCR_PIXEL_TYPE_F32: return 4;
    default: return 8;
    }
}

size_t case_pixels(const test_case *c) {
    return c->width * c->height * c->planes;
}

mrbcr_options *case_options(const test_case *c, size_t threads) {
    mrbcr_options *options = NULL;
    if (mrbcr_options_new(&options) != MRBCR_STATUS_OK ||
        mrbcr_options_set_tile(options, c->tile) != MRBCR_STATUS_OK ||
        mrbcr_options_set_overlap(options, c->overlap) != MRBCR_STATUS_OK ||
        mrbcr_options_set_normalization(options, c->normalization) != MRBCR_STATUS_OK ||
        mrbcr_options_set_output_range(options, c->output_range) != MRBCR_STATUS_OK ||
        mrbcr_options_set_threads(options, threads) != MRBCR_STATUS_OK) {
        fail("cannot set the options", mrbcr_last_error_message());
    }
    return options;
}
