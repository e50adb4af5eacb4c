/* mrbcr in acquisition software: frames arrive one after the other from a camera
 * (simulated: 16-bit frames of moving blurred spots with noise), each is deconvolved
 * as it arrives and handed on (to display, storage, analysis: here a consumer that
 * sums the pixels). The latency of every frame is printed, and the median at the end.
 *
 * The model is loaded once; the options are made once; the output buffer is reused.
 * One `mrbcr_deconvolve` per frame uses every core (or --threads N).
 *
 * Build (from the repository, after `cargo build --release`):
 *     gcc -O2 -Wall -Wextra -Werror -std=c11 -Iinclude examples/c/acquisition.c \
 *         -Ltarget/release -lmrbcr -Wl,-rpath,$PWD/target/release -lm -o acquisition
 * Run:
 *     ./acquisition MODEL.safetensors [--frames N] [--size N] [--tile N --overlap N]
 *                   [--threads N]
 * (tile and overlap: the library's defaults unless given)
 */
#define _POSIX_C_SOURCE 199309L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mrbcr.h"

/* Settings from the command line. */
typedef struct settings {
    const char *model;
    int frames;
    size_t size; /* frames are size x size */
    size_t tile;    /* NOT_SET: the library's default */
    size_t overlap; /* NOT_SET: the library's default */
    size_t threads;
} settings;

#define NOT_SET SIZE_MAX

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The camera: frame `index`, blurred spots drifting across a background, with noise. */
static void acquire_frame(uint16_t *frame, size_t size, int index, uint32_t *noise_state) {
    enum { SPOTS = 24 };
    for (size_t y = 0; y < size; y++) {
        for (size_t x = 0; x < size; x++) {
            double value = 400.0;
            for (int s = 0; s < SPOTS; s++) {
                double sx = fmod(37.0 * s + 3.0 * index, (double)size);
                double sy = fmod(91.0 * s + 1.5 * index, (double)size);
                double d2 = (x - sx) * (x - sx) + (y - sy) * (y - sy);
                if (d2 < 400.0) value += 3000.0 * exp(-d2 / 18.0);
            }
            *noise_state = *noise_state * 1664525u + 1013904223u; /* an LCG */
            value += (double)(*noise_state >> 24);
            frame[y * size + x] = (uint16_t)(value > 65535.0 ? 65535.0 : value);
        }
    }
}

/* The next stage of the pipeline: here it only looks at every pixel. */
static uint64_t hand_on(const uint16_t *restored, size_t pixels) {
    uint64_t sum = 0;
    for (size_t i = 0; i < pixels; i++) sum += restored[i];
    return sum;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int parse(int argc, char **argv, settings *s) {
    *s = (settings){NULL, 20, 512, NOT_SET, NOT_SET, 0};
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--frames") == 0) {
            s->frames = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--size") == 0) {
            s->size = (size_t)atol(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--tile") == 0) {
            s->tile = (size_t)atol(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--overlap") == 0) {
            s->overlap = (size_t)atol(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0) {
            s->threads = (size_t)atol(argv[++i]);
        } else if (argv[i][0] != '-' && !s->model) {
            s->model = argv[i];
        } else {
            return 0;
        }
    }
    return s->model && s->frames > 0 && s->size > 0;
}

int main(int argc, char **argv) {
    settings s;
    if (!parse(argc, argv, &s)) {
        fprintf(stderr,
                "usage: %s MODEL.safetensors [--frames N] [--size N] [--tile N --overlap N] "
                "[--threads N]\n",
                argv[0]);
        return 2;
    }
    if (mrbcr_abi_version() != MRBCR_ABI_VERSION) {
        fprintf(stderr, "libmrbcr has ABI version %u, this program was built for %d\n",
                mrbcr_abi_version(), MRBCR_ABI_VERSION);
        return 1;
    }
    mrbcr_model *model = NULL;
    mrbcr_options *options = NULL;
    if (mrbcr_model_load(s.model, &model) != MRBCR_STATUS_OK ||
        mrbcr_options_new(&options) != MRBCR_STATUS_OK ||
        (s.tile != NOT_SET && mrbcr_options_set_tile(options, s.tile) != MRBCR_STATUS_OK) ||
        (s.overlap != NOT_SET &&
         mrbcr_options_set_overlap(options, s.overlap) != MRBCR_STATUS_OK) ||
        mrbcr_options_set_threads(options, s.threads) != MRBCR_STATUS_OK) {
        fprintf(stderr, "mrbcr: %s\n", mrbcr_last_error_message());
        mrbcr_model_free(model);
        return 1;
    }

    size_t pixels = s.size * s.size;
    uint16_t *frame = malloc(pixels * sizeof *frame);
    uint16_t *restored = malloc(pixels * sizeof *restored);
    double *latency = malloc((size_t)s.frames * sizeof *latency);
    uint32_t noise_state = 12345;
    /* The descriptors stay the same from frame to frame: only the pixels change. */
    const mrbcr_image_in in = {frame, MRBCR_PIXEL_TYPE_U16, s.size, s.size, 1, 0, 0};
    const mrbcr_image_out out = {restored, MRBCR_PIXEL_TYPE_U16, s.size, s.size, 1, 0, 0};

    char tiling[64] = "default tiles";
    if (s.tile != NOT_SET) snprintf(tiling, sizeof tiling, "tile %zu", s.tile);
    printf("mrbcr %s: %d frames of %zu x %zu u16, %s, threads %zu (0 = all cores)\n",
           mrbcr_version(), s.frames, s.size, s.size, tiling, s.threads);
    int status = 0;
    for (int f = 0; f < s.frames; f++) {
        acquire_frame(frame, s.size, f, &noise_state);
        double start = now_seconds();
        if (mrbcr_deconvolve(model, options, &in, &out, NULL, NULL) != MRBCR_STATUS_OK) {
            fprintf(stderr, "frame %d: %s\n", f, mrbcr_last_error_message());
            status = 1;
            break;
        }
        latency[f] = now_seconds() - start;
        uint64_t sum = hand_on(restored, pixels);
        printf("frame %3d: %7.1f ms (mean value %.1f)\n", f, latency[f] * 1e3,
               (double)sum / (double)pixels);
    }
    if (status == 0) {
        qsort(latency, (size_t)s.frames, sizeof *latency, compare_doubles);
        printf("median latency per %zu x %zu frame: %.1f ms (min %.1f, max %.1f) over %d "
               "frames\n",
               s.size, s.size, latency[s.frames / 2] * 1e3, latency[0] * 1e3,
               latency[s.frames - 1] * 1e3, s.frames);
    }
    free(latency);
    free(restored);
    free(frame);
    mrbcr_options_free(options);
    mrbcr_model_free(model);
    return status;
}
