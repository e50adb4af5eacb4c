/* The platform smoke test of the release libraries (.ci/release-check): deconvolves a
 * fixed 16-bit image with the bundled default model and writes the result as raw
 * little-endian float32, so that the outputs of builds for different platforms
 * (Linux x86-64 natively, Windows under wine, aarch64 Linux under qemu) can be
 * compared byte for byte with cmp.
 *
 * The input is made with integer arithmetic only (no libm), so every platform starts
 * from the same bits. Tiles of 128 with an overlap of 32 on a 160 x 144 image give
 * four tiles and their blending; two worker threads.
 *
 *     smoke OUTPUT.f32
 *
 * Prints the library's version and ABI version, checks them against the header's
 * macros, and exits with 1 (and the library's message) on any failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mrbcr.h"

enum { WIDTH = 160, HEIGHT = 144, TILE = 128, OVERLAP = 32, THREADS = 2 };

/* Exits with the library's last error message when `status` is not OK. */
static void check(enum mrbcr_status status, const char *what) {
    if (status != MRBCR_STATUS_OK) {
        fprintf(stderr, "smoke: %s failed (status %d): %s\n", what, (int)status,
                mrbcr_last_error_message());
        exit(1);
    }
}

/* A fixed image: bright blocks, lines and dots on a background, with LCG noise. */
static void make_input(uint16_t *pixels) {
    uint32_t noise = 12345u;
    for (uint32_t y = 0; y < HEIGHT; y++) {
        for (uint32_t x = 0; x < WIDTH; x++) {
            uint32_t value = 300;
            if ((x / 20 + y / 24) % 3 == 0) value += 900;
            if (x == y || x == 2 * y || (x + y) % 37 == 0) value += 2500;
            if (x % 16 == 5 && y % 12 == 7) value += 8000;
            noise = noise * 1664525u + 1013904223u;
            value += noise >> 25;
            pixels[y * WIDTH + x] = (uint16_t)value;
        }
    }
}

/* Writes the floats as little-endian bytes, whatever the host's byte order. */
static void write_f32_le(const char *path, const float *values, size_t count) {
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "smoke: cannot write %s\n", path);
        exit(1);
    }
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        unsigned char bytes[4] = {(unsigned char)bits, (unsigned char)(bits >> 8),
                                  (unsigned char)(bits >> 16), (unsigned char)(bits >> 24)};
        if (fwrite(bytes, 1, 4, file) != 4) {
            fprintf(stderr, "smoke: cannot write %s\n", path);
            exit(1);
        }
    }
    if (fclose(file) != 0) {
        fprintf(stderr, "smoke: cannot write %s\n", path);
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: smoke OUTPUT.f32\n");
        return 2;
    }
    char expected_version[32];
    snprintf(expected_version, sizeof expected_version, "%d.%d.%d", MRBCR_VERSION_MAJOR,
             MRBCR_VERSION_MINOR, MRBCR_VERSION_PATCH);
    if (mrbcr_abi_version() != MRBCR_ABI_VERSION ||
        strcmp(mrbcr_version(), expected_version) != 0 ||
        strcmp(mrbcr_version(), MRBCR_VERSION) != 0) {
        fprintf(stderr, "smoke: library %s (ABI %u) does not match the header %s (ABI %d)\n",
                mrbcr_version(), (unsigned)mrbcr_abi_version(), MRBCR_VERSION, MRBCR_ABI_VERSION);
        return 1;
    }
    printf("mrbcr %s, ABI %u\n", mrbcr_version(), (unsigned)mrbcr_abi_version());

    static uint16_t input[WIDTH * HEIGHT];
    static float output[WIDTH * HEIGHT];
    make_input(input);

    struct mrbcr_model *model = NULL;
    check(mrbcr_model_new_default(&model), "mrbcr_model_new_default");
    struct mrbcr_options *options = NULL;
    check(mrbcr_options_new(&options), "mrbcr_options_new");
    check(mrbcr_options_set_tile(options, TILE), "mrbcr_options_set_tile");
    check(mrbcr_options_set_overlap(options, OVERLAP), "mrbcr_options_set_overlap");
    check(mrbcr_options_set_threads(options, THREADS), "mrbcr_options_set_threads");

    struct mrbcr_image_in in = {input, MRBCR_PIXEL_TYPE_U16, WIDTH, HEIGHT, 1, 0, 0};
    struct mrbcr_image_out out = {output, MRBCR_PIXEL_TYPE_F32, WIDTH, HEIGHT, 1, 0, 0};
    check(mrbcr_deconvolve(model, options, &in, &out, NULL, NULL), "mrbcr_deconvolve");
    mrbcr_options_free(options);
    mrbcr_model_free(model);

    double sum = 0.0;
    for (size_t i = 0; i < WIDTH * HEIGHT; i++) sum += output[i];
    printf("deconvolved %d x %d pixels, mean %.6f\n", WIDTH, HEIGHT, sum / (WIDTH * HEIGHT));
    write_f32_le(argv[1], output, WIDTH * HEIGHT);
    return 0;
}
