/* The classical functions of the C ABI from C: PSFs, Richardson-Lucy, Wiener, the
 * simulator and the scores, bit-identical to the Rust API's results (the fixtures),
 * with strides and other pixel types, progress and cancellation, and every error
 * path with its message.
 *
 * Usage: test_classical FIXTURE_DIR
 * FIXTURE_DIR is what tests/ffi_classical_fixtures.rs (write_classical_fixtures)
 * wrote. The images are tiny, so the same run serves under valgrind.
 * Exits 0 if every check passed. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixtures.h"
#include "mrbcr.h"

/* ---- The parameters of the fixtures (classical.txt: "key value" lines). ---- */

typedef struct parameter {
    char key[64];
    double value;
} parameter;

static parameter parameters[64];
static size_t parameter_count = 0;

static void read_parameters(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/classical.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        parameter *p = &parameters[parameter_count];
        if (parameter_count == 64 || sscanf(line, "%63s %lf", p->key, &p->value) != 2) {
            fprintf(stderr, "bad line in %s: %s", path, line);
            exit(2);
        }
        parameter_count++;
    }
    fclose(f);
}

/* The value of a parameter of the fixtures; exits if it is missing. */
static double param(const char *key) {
    for (size_t i = 0; i < parameter_count; i++) {
        if (strcmp(parameters[i].key, key) == 0) return parameters[i].value;
    }
    fprintf(stderr, "classical.txt has no '%s'\n", key);
    exit(2);
}

static size_t size_param(const char *key) {
    return (size_t)param(key);
}

/* A fixture of exactly `bytes` bytes (malloc'ed); exits otherwise. */
static void *fixture(const char *dir, const char *name, size_t bytes) {
    size_t len = 0;
    void *data = read_fixture(dir, name, "", &len);
    if (len != bytes) {
        fprintf(stderr, "%s/%s has %zu bytes, expected %zu\n", dir, name, len, bytes);
        exit(2);
    }
    return data;
}

/* True if every byte of `data` is `byte`. */
static int all_bytes(const void *data, size_t len, unsigned char byte) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        if (p[i] != byte) return 0;
    }
    return 1;
}

/* The u16 a float result becomes: rounded half away from zero, clamped. */
static uint16_t to_u16(float v) {
    if (!(v > 0.0f)) return 0;
    if (v >= 65535.0f) return 65535;
    return (uint16_t)roundf(v);
}

/* ---- PSF ---- */

/* PSF parameters as the fixtures set them (the caller frees them). */
static mrbcr_psf_params *fixture_psf_params(void) {
    mrbcr_psf_params *params = NULL;
    CHECK(mrbcr_psf_params_new(&params) == MRBCR_STATUS_OK && params != NULL, "psf_params_new");
    CHECK(mrbcr_psf_params_set_numerical_aperture(params, param("psf.numerical_aperture")) ==
                  MRBCR_STATUS_OK &&
              mrbcr_psf_params_set_wavelength_nm(params, param("psf.wavelength_nm")) ==
                  MRBCR_STATUS_OK &&
              mrbcr_psf_params_set_refractive_index(params, param("psf.refractive_index")) ==
                  MRBCR_STATUS_OK &&
              mrbcr_psf_params_set_pixel_size_nm(params, param("psf.pixel_size_nm")) ==
                  MRBCR_STATUS_OK &&
              mrbcr_psf_params_set_defocus_nm(params, param("psf.defocus_nm")) ==
                  MRBCR_STATUS_OK &&
              mrbcr_psf_params_set_size(params, size_param("psf.width"),
                                        size_param("psf.height")) == MRBCR_STATUS_OK &&
              mrbcr_psf_params_set_oversampling(params, size_param("psf.oversampling")) ==
                  MRBCR_STATUS_OK,
          "the PSF setters");
    return params;
}

static void test_psf(const char *dir) {
    size_t w = size_param("psf.width"), h = size_param("psf.height");
    float *born_wolf = fixture(dir, "psf_born_wolf.f32", w * h * sizeof(float));
    float *gaussian = fixture(dir, "psf_gaussian.f32", w * h * sizeof(float));
    mrbcr_psf_params *params = fixture_psf_params();

    float *psf = malloc(w * h * sizeof *psf);
    mrbcr_image_out out = {psf, MRBCR_PIXEL_TYPE_F32, w, h, 1, 0, 0};
    CHECK(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_BORN_WOLF, &out) == MRBCR_STATUS_OK,
          "Born-Wolf PSF");
    CHECK(memcmp(psf, born_wolf, w * h * sizeof *psf) == 0,
          "the Born-Wolf PSF is bit-identical to the Rust API's");
    CHECK(strcmp(mrbcr_last_error_message(), "") == 0, "success clears the last error");

    /* Doubles, rows padded by 3 pixels: the same values, converted exactly. */
    size_t row = w + 3;
    double *wide = calloc(row * h, sizeof *wide);
    mrbcr_image_out wide_out = {wide, MRBCR_PIXEL_TYPE_F64, w, h, 1, row * sizeof *wide, 0};
    CHECK(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_BORN_WOLF, &wide_out) == MRBCR_STATUS_OK,
          "Born-Wolf PSF as doubles, padded rows");
    int same = 1;
    for (size_t y = 0; y < h; y++) {
        for (size_t x = 0; x < w; x++) same &= wide[y * row + x] == (double)born_wolf[y * w + x];
    }
    CHECK(same, "the double PSF holds the same values");

    CHECK(mrbcr_psf_params_set_defocus_nm(params, 0.0) == MRBCR_STATUS_OK, "defocus 0");
    CHECK(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_GAUSSIAN, &out) == MRBCR_STATUS_OK,
          "Gaussian PSF");
    CHECK(memcmp(psf, gaussian, w * h * sizeof *psf) == 0,
          "the Gaussian PSF is bit-identical to the Rust API's");

    /* Errors: the output is never written. */
    memset(psf, 0xAB, w * h * sizeof *psf);
    mrbcr_image_out bad = out;
    EXPECT_FAILURE(mrbcr_psf_compute(NULL, MRBCR_PSF_MODEL_GAUSSIAN, &out),
                   MRBCR_STATUS_NULL_PARAMETER, "'params'", "NULL params");
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_GAUSSIAN, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'psf_out'", "NULL psf_out");
    bad.data = NULL;
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_GAUSSIAN, &bad),
                   MRBCR_STATUS_NULL_PARAMETER, "'psf_out->data'", "NULL psf_out data");
    EXPECT_FAILURE(mrbcr_psf_compute(params, 7, &out), MRBCR_STATUS_INVALID_INPUT,
                   "unknown PSF model 7", "an unknown model");
    bad = out, bad.pixel_type = MRBCR_PIXEL_TYPE_U16;
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_GAUSSIAN, &bad),
                   MRBCR_STATUS_INVALID_INPUT, "must be 32-bit or 64-bit float (a PSF sums to 1), got 16-bit",
                   "an integer PSF");
    bad = out, bad.width = w + 1;
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_GAUSSIAN, &bad),
                   MRBCR_STATUS_INVALID_INPUT, "must have the dimensions of the PSF parameters",
                   "a size that is not the parameters'");
    bad = out, bad.planes = 2;
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_GAUSSIAN, &bad),
                   MRBCR_STATUS_INVALID_INPUT, "(1 planes of", "two planes");
    bad = out, bad.row_stride = 3;
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_GAUSSIAN, &bad),
                   MRBCR_STATUS_INVALID_INPUT, "psf_out's row stride 3 bytes",
                   "a bad row stride");
    CHECK(mrbcr_psf_params_set_defocus_nm(params, 200.0) == MRBCR_STATUS_OK, "defocus 200");
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_GAUSSIAN, &out),
                   MRBCR_STATUS_INVALID_INPUT, "in-focus plane only, got a defocus of 200 nm",
                   "a defocused Gaussian");
    mrbcr_psf_params_set_defocus_nm(params, 0.0);
    mrbcr_psf_params_set_numerical_aperture(params, -1.0);
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_BORN_WOLF, &out),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the numerical aperture must be a positive number, got -1", "NA -1");
    mrbcr_psf_params_set_numerical_aperture(params, 1.6);
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_BORN_WOLF, &out),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the numerical aperture (1.6) cannot exceed the immersion refractive index",
                   "NA above the refractive index");
    mrbcr_psf_params_set_refractive_index(params, 1.7); /* any order: now 1.6 is fine */
    mrbcr_psf_params_set_wavelength_nm(params, NAN);
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_BORN_WOLF, &out),
                   MRBCR_STATUS_INVALID_INPUT, "the emission wavelength (nm) must be a positive",
                   "NaN wavelength");
    mrbcr_psf_params_set_wavelength_nm(params, 500.0);
    mrbcr_psf_params_set_pixel_size_nm(params, 0.0);
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_BORN_WOLF, &out),
                   MRBCR_STATUS_INVALID_INPUT, "the pixel size (nm) must be a positive number",
                   "pixel size 0");
    mrbcr_psf_params_set_pixel_size_nm(params, 60.0);
    mrbcr_psf_params_set_size(params, 0, h);
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_BORN_WOLF, &out),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the PSF width must be between 1 and 1024 pixels, got 0", "width 0");
    mrbcr_psf_params_set_size(params, w, h);
    mrbcr_psf_params_set_oversampling(params, 17);
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_BORN_WOLF, &out),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the PSF oversampling must be between 1 and 16 points per pixel side, got 17",
                   "oversampling 17");
    mrbcr_psf_params_set_oversampling(params, 2);
    mrbcr_psf_params_set_refractive_index(params, 0.9);
    EXPECT_FAILURE(mrbcr_psf_compute(params, MRBCR_PSF_MODEL_BORN_WOLF, &out),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the immersion refractive index must be at least 1, got 0.9", "index 0.9");
    CHECK(all_bytes(psf, w * h * sizeof *psf, 0xAB), "a failed call leaves psf_out untouched");

    /* The handle's own errors. */
    CHECK(mrbcr_psf_params_new(NULL) == MRBCR_STATUS_NULL_PARAMETER, "NULL params_out");
    EXPECT_FAILURE(mrbcr_psf_params_set_numerical_aperture(NULL, 1.0),
                   MRBCR_STATUS_NULL_PARAMETER, "'params'", "set NA on NULL");
    CHECK(mrbcr_psf_params_set_wavelength_nm(NULL, 1.0) == MRBCR_STATUS_NULL_PARAMETER &&
              mrbcr_psf_params_set_refractive_index(NULL, 1.0) == MRBCR_STATUS_NULL_PARAMETER &&
              mrbcr_psf_params_set_pixel_size_nm(NULL, 1.0) == MRBCR_STATUS_NULL_PARAMETER &&
              mrbcr_psf_params_set_defocus_nm(NULL, 1.0) == MRBCR_STATUS_NULL_PARAMETER &&
              mrbcr_psf_params_set_size(NULL, 1, 1) == MRBCR_STATUS_NULL_PARAMETER &&
              mrbcr_psf_params_set_oversampling(NULL, 1) == MRBCR_STATUS_NULL_PARAMETER,
          "every setter refuses NULL");

    /* The defaults give a 65 x 65 PSF. */
    mrbcr_psf_params *defaults = NULL;
    mrbcr_psf_params_new(&defaults);
    float *big = malloc(65 * 65 * sizeof *big);
    mrbcr_image_out big_out = {big, MRBCR_PIXEL_TYPE_F32, 65, 65, 1, 0, 0};
    CHECK(mrbcr_psf_compute(defaults, MRBCR_PSF_MODEL_GAUSSIAN, &big_out) == MRBCR_STATUS_OK,
          "the default parameters are 65 x 65");
    double sum = 0;
    for (size_t i = 0; i < 65 * 65; i++) sum += big[i];
    CHECK(fabs(sum - 1.0) < 1e-5, "a PSF sums to 1");
    free(big);
    mrbcr_psf_params_free(defaults);
    mrbcr_psf_params_free(NULL); /* a no-op */

    mrbcr_psf_params_free(params);
    free(wide);
    free(psf);
    free(born_wolf);
    free(gaussian);
}

/* ---- The simulator ---- */

/* Simulation parameters as the fixtures set them (the caller frees them). */
static mrbcr_simulation_params *fixture_simulation_params(void) {
    mrbcr_simulation_params *p = NULL;
    CHECK(mrbcr_simulation_params_new(&p) == MRBCR_STATUS_OK && p != NULL,
          "simulation_params_new");
    int ok = 1;
    ok &= mrbcr_simulation_params_set_size(p, size_param("sim.width"),
                                           size_param("sim.height")) == MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_pixel_size_nm(p, param("sim.pixel_size_nm")) ==
          MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_oversampling(p, size_param("sim.oversampling")) ==
          MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_numerical_aperture(p, param("sim.numerical_aperture.min"),
                                                         param("sim.numerical_aperture.max")) ==
          MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_wavelength_nm(p, param("sim.wavelength_nm.min"),
                                                    param("sim.wavelength_nm.max")) ==
          MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_refractive_index(p, param("sim.refractive_index")) ==
          MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_psf_size(p, size_param("sim.psf_size")) == MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_peak_photons(p, param("sim.peak_photons.min"),
                                                   param("sim.peak_photons.max")) ==
          MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_background_photons(p, param("sim.background_photons.min"),
                                                         param("sim.background_photons.max")) ==
          MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_camera(p, param("sim.camera.offset"),
                                             param("sim.camera.gain"),
                                             param("sim.camera.read_noise")) == MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_out_of_focus_layers(
              p, size_param("sim.out_of_focus_layers")) == MRBCR_STATUS_OK;
    ok &= mrbcr_simulation_params_set_defocus_nm(p, param("sim.defocus_nm.min"),
                                                 param("sim.defocus_nm.max")) == MRBCR_STATUS_OK;
    CHECK(ok, "the simulation setters");
    return p;
}

static void test_simulate(const char *dir) {
    size_t w = size_param("sim.width"), h = size_param("sim.height"), n = w * h;
    uint64_t seed = (uint64_t)param("sim.seed");
    uint16_t *raw_expected = fixture(dir, "sim_raw.u16", 2 * n * sizeof(uint16_t));
    float *truth_expected = fixture(dir, "sim_truth.f32", 2 * n * sizeof(float));
    size_t psf_side = size_param("sim.psf_size");
    float *psf_expected = fixture(dir, "sim_psf.f32", psf_side * psf_side * sizeof(float));
    mrbcr_simulation_params *params = fixture_simulation_params();

    uint16_t *raw = malloc(n * sizeof *raw);
    float *truth = malloc(n * sizeof *truth);
    mrbcr_image_out raw_out = {raw, MRBCR_PIXEL_TYPE_U16, w, h, 1, 0, 0};
    mrbcr_image_out truth_out = {truth, MRBCR_PIXEL_TYPE_F32, w, h, 1, 0, 0};
    mrbcr_psf_params *true_psf = NULL;
    mrbcr_psf_params_new(&true_psf);
    for (uint64_t index = 0; index < 2; index++) {
        CHECK(mrbcr_simulate_pair(params, seed, index, &raw_out, &truth_out,
                                  index == 0 ? true_psf : NULL) == MRBCR_STATUS_OK,
              "simulate a pair");
        CHECK(memcmp(raw, raw_expected + index * n, n * sizeof *raw) == 0,
              "the raw image is bit-identical to the Rust API's");
        CHECK(memcmp(truth, truth_expected + index * n, n * sizeof *truth) == 0,
              "the ground truth is bit-identical to the Rust API's");
    }
    /* The true PSF of image 0, through its parameters. */
    float *psf = malloc(psf_side * psf_side * sizeof *psf);
    mrbcr_image_out psf_out = {psf, MRBCR_PIXEL_TYPE_F32, psf_side, psf_side, 1, 0, 0};
    CHECK(mrbcr_psf_compute(true_psf, MRBCR_PSF_MODEL_BORN_WOLF, &psf_out) == MRBCR_STATUS_OK,
          "the true PSF's parameters");
    CHECK(memcmp(psf, psf_expected, psf_side * psf_side * sizeof *psf) == 0,
          "the true PSF is bit-identical to the Rust API's");

    /* Counts as floats, padded rows: the same values. */
    size_t row = w + 2;
    float *wide = calloc(row * h, sizeof *wide);
    mrbcr_image_out wide_out = {wide, MRBCR_PIXEL_TYPE_F32, w, h, 1, row * sizeof *wide, 0};
    CHECK(mrbcr_simulate_pair(params, seed, 0, &wide_out, &truth_out, NULL) == MRBCR_STATUS_OK,
          "raw counts as floats");
    int same = 1;
    for (size_t y = 0; y < h; y++) {
        for (size_t x = 0; x < w; x++) same &= wide[y * row + x] == (float)raw_expected[y * w + x];
    }
    CHECK(same, "the float counts are the counts");

    /* Errors: nothing is written. */
    memset(raw, 0xAB, n * sizeof *raw);
    memset(truth, 0xAB, n * sizeof *truth);
    mrbcr_image_out bad;
    EXPECT_FAILURE(mrbcr_simulate_pair(NULL, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'params'", "NULL params");
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, NULL, &truth_out, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'raw_out'", "NULL raw_out");
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, NULL, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'truth_out'", "NULL truth_out");
    bad = truth_out, bad.data = NULL;
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &bad, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'truth_out->data'", "NULL truth_out data");
    bad = raw_out, bad.height = h - 1;
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &bad, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "must have the dimensions of the simulation",
                   "a raw_out of another size");
    bad = truth_out, bad.pixel_type = 4;
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &bad, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "truth_out's pixel type 4",
                   "an unknown pixel type");
    bad = truth_out, bad.data = raw, bad.pixel_type = MRBCR_PIXEL_TYPE_U16;
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &bad, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "overlaps", "overlapping outputs");

    mrbcr_simulation_params_set_size(params, 0, h);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the simulated image width must be between 1 and 4096 pixels, got 0", "width 0");
    mrbcr_simulation_params_set_size(params, w, h);
    mrbcr_simulation_params_set_pixel_size_nm(params, 150.0);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "a pixel of 150 nm undersamples the PSF",
                   "undersampling pixels");
    mrbcr_simulation_params_set_pixel_size_nm(params, param("sim.pixel_size_nm"));
    mrbcr_simulation_params_set_numerical_aperture(params, 1.3, 1.2);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the numerical aperture range must be finite, ordered (min <= max) and above "
                   "0, got (1.3, 1.2)",
                   "an NA range out of order");
    mrbcr_simulation_params_set_numerical_aperture(params, 1.0, 1.3);
    mrbcr_simulation_params_set_camera(params, 100.0, 0.0, 1.0);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "camera gain (counts per photon)", "gain 0");
    mrbcr_simulation_params_set_camera(params, 100.0, 1.0, 1.0);
    mrbcr_simulation_params_set_psf_size(params, 20);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the simulation PSF size must be odd and at most 1024, got 20", "PSF size 20");
    mrbcr_simulation_params_set_psf_size(params, 21);
    mrbcr_simulation_params_set_out_of_focus_layers(params, 17);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "at most 16 out-of-focus layers, got 17",
                   "17 layers");
    mrbcr_simulation_params_set_out_of_focus_layers(params, 0);
    mrbcr_simulation_params_set_oversampling(params, 9);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the simulation oversampling must be between 1 and 8, got 9", "oversampling 9");
    mrbcr_simulation_params_set_oversampling(params, 2);
    mrbcr_simulation_params_set_refractive_index(params, 1.2);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the immersion refractive index (1.2) must be at least the largest numerical "
                   "aperture (1.3)",
                   "index below the NA");
    mrbcr_simulation_params_set_refractive_index(params, 1.4);
    mrbcr_simulation_params_set_wavelength_nm(params, -5.0, 600.0);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "the emission wavelength (nm) range",
                   "a negative wavelength");
    mrbcr_simulation_params_set_wavelength_nm(params, 520.0, 600.0);
    mrbcr_simulation_params_set_peak_photons(params, 0.0, 10.0);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "the peak photons range", "0 peak photons");
    mrbcr_simulation_params_set_peak_photons(params, 10.0, 100.0);
    mrbcr_simulation_params_set_background_photons(params, -1.0, 1.0);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "the background photons range",
                   "negative background");
    mrbcr_simulation_params_set_background_photons(params, 0.0, 1.0);
    mrbcr_simulation_params_set_defocus_nm(params, 900.0, 400.0);
    EXPECT_FAILURE(mrbcr_simulate_pair(params, seed, 0, &raw_out, &truth_out, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "the defocus (nm) range", "defocus out of order");
    CHECK(all_bytes(raw, n * sizeof *raw, 0xAB) && all_bytes(truth, n * sizeof *truth, 0xAB),
          "failed calls leave the outputs untouched");

    CHECK(mrbcr_simulation_params_new(NULL) == MRBCR_STATUS_NULL_PARAMETER, "NULL params_out");
    EXPECT_FAILURE(mrbcr_simulation_params_set_size(NULL, 1, 1), MRBCR_STATUS_NULL_PARAMETER,
                   "'params'", "set size on NULL");
    int all_null = 1;
    all_null &= mrbcr_simulation_params_set_pixel_size_nm(NULL, 1) == MRBCR_STATUS_NULL_PARAMETER;
    all_null &= mrbcr_simulation_params_set_oversampling(NULL, 1) == MRBCR_STATUS_NULL_PARAMETER;
    all_null &= mrbcr_simulation_params_set_numerical_aperture(NULL, 1, 1) ==
                MRBCR_STATUS_NULL_PARAMETER;
    all_null &= mrbcr_simulation_params_set_wavelength_nm(NULL, 1, 1) ==
                MRBCR_STATUS_NULL_PARAMETER;
    all_null &= mrbcr_simulation_params_set_refractive_index(NULL, 1) ==
                MRBCR_STATUS_NULL_PARAMETER;
    all_null &= mrbcr_simulation_params_set_psf_size(NULL, 1) == MRBCR_STATUS_NULL_PARAMETER;
    all_null &= mrbcr_simulation_params_set_peak_photons(NULL, 1, 1) ==
                MRBCR_STATUS_NULL_PARAMETER;
    all_null &= mrbcr_simulation_params_set_background_photons(NULL, 1, 1) ==
                MRBCR_STATUS_NULL_PARAMETER;
    all_null &= mrbcr_simulation_params_set_camera(NULL, 1, 1, 1) == MRBCR_STATUS_NULL_PARAMETER;
    all_null &= mrbcr_simulation_params_set_out_of_focus_layers(NULL, 1) ==
                MRBCR_STATUS_NULL_PARAMETER;
    all_null &= mrbcr_simulation_params_set_defocus_nm(NULL, 1, 1) == MRBCR_STATUS_NULL_PARAMETER;
    CHECK(all_null, "every setter refuses NULL");
    mrbcr_simulation_params_free(NULL); /* a no-op */

    mrbcr_simulation_params_free(params);
    mrbcr_psf_params_free(true_psf);
    free(wide);
    free(psf);
    free(raw);
    free(truth);
    free(raw_expected);
    free(truth_expected);
    free(psf_expected);
}

/* ---- Richardson-Lucy and Wiener ---- */

static void test_deconvolution(const char *dir) {
    size_t w = size_param("sim.width"), h = size_param("sim.height"), n = w * h;
    size_t side = size_param("sim.psf_size");
    size_t iterations = size_param("rl.iterations");
    double tv_lambda = param("rl.tv_lambda"), nsr = param("wiener.noise_to_signal");
    uint16_t *raw = fixture(dir, "sim_raw.u16", 2 * n * sizeof(uint16_t));
    float *psf = fixture(dir, "sim_psf.f32", side * side * sizeof(float));
    float *rl_expected = fixture(dir, "rl.f32", 2 * n * sizeof(float));
    float *wiener_expected = fixture(dir, "wiener.f32", 2 * n * sizeof(float));
    const mrbcr_image_in in = {raw, MRBCR_PIXEL_TYPE_U16, w, h, 2, 0, 0};
    const mrbcr_image_in psf_in = {psf, MRBCR_PIXEL_TYPE_F32, side, side, 1, 0, 0};
    float *result = malloc(2 * n * sizeof *result);
    const mrbcr_image_out out = {result, MRBCR_PIXEL_TYPE_F32, w, h, 2, 0, 0};

    /* Richardson-Lucy on a two-plane stack, with progress. */
    progress_log *log = calloc(1, sizeof *log);
    CHECK(mrbcr_richardson_lucy(&in, &psf_in, iterations, tv_lambda, &out, record_progress,
                                log) == MRBCR_STATUS_OK,
          "Richardson-Lucy");
    CHECK(memcmp(result, rl_expected, 2 * n * sizeof *result) == 0,
          "Richardson-Lucy is bit-identical to the Rust API's, every plane");
    CHECK(log->calls == 2 * iterations, "one progress call per iteration and plane");
    int increasing = log->fractions[0] > 0.0;
    for (size_t i = 1; i < log->calls; i++) increasing &= log->fractions[i] > log->fractions[i - 1];
    CHECK(increasing, "fractions increase from above 0");
    CHECK(log->fractions[log->calls - 1] == 1.0, "the last fraction is 1");
    CHECK(mrbcr_richardson_lucy(&in, &psf_in, iterations, tv_lambda, &out, NULL, NULL) ==
                  MRBCR_STATUS_OK &&
              memcmp(result, rl_expected, 2 * n * sizeof *result) == 0,
          "without progress: the same result");

    /* Padded strides in and out, the PSF as doubles, a u16 output. */
    size_t in_row = w + 5, in_plane = (h + 3) * in_row, out_row = w + 1, out_plane = h * out_row;
    uint16_t *padded = calloc(2 * in_plane, sizeof *padded);
    for (size_t p = 0; p < 2; p++) {
        for (size_t y = 0; y < h; y++) {
            memcpy(padded + p * in_plane + y * in_row, raw + p * n + y * w, w * sizeof *raw);
        }
    }
    double *psf64 = malloc(side * side * sizeof *psf64);
    for (size_t i = 0; i < side * side; i++) psf64[i] = psf[i];
    uint16_t *counts = calloc(2 * out_plane, sizeof *counts);
    const mrbcr_image_in padded_in = {padded, MRBCR_PIXEL_TYPE_U16, w, h, 2,
                                      in_row * 2, in_plane * 2};
    const mrbcr_image_in psf64_in = {psf64, MRBCR_PIXEL_TYPE_F64, side, side, 1, 0, 0};
    const mrbcr_image_out counts_out = {counts, MRBCR_PIXEL_TYPE_U16, w, h, 2,
                                        out_row * 2, out_plane * 2};
    CHECK(mrbcr_richardson_lucy(&padded_in, &psf64_in, iterations, tv_lambda, &counts_out, NULL,
                                NULL) == MRBCR_STATUS_OK,
          "Richardson-Lucy with strides, a double PSF and a u16 output");
    int same = 1;
    for (size_t p = 0; p < 2; p++) {
        for (size_t y = 0; y < h; y++) {
            for (size_t x = 0; x < w; x++) {
                same &= counts[p * out_plane + y * out_row + x] ==
                        to_u16(rl_expected[p * n + y * w + x]);
            }
        }
    }
    CHECK(same, "the u16 output is the Rust API's result rounded");

    /* Cancellation at the third iteration. */
    memset(log, 0, sizeof *log);
    log->cancel_at = 3;
    memset(result, 0xAB, 2 * n * sizeof *result);
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &psf_in, iterations, tv_lambda, &out,
                                         record_progress, log),
                   MRBCR_STATUS_CANCELLED, "cancelled", "returning 0 cancels");
    CHECK(log->calls == 3, "no progress call after the cancelling one");
    CHECK(all_bytes(result, 2 * n * sizeof *result, 0), "a cancelled run leaves zeros");
    memset(log, 0, sizeof *log);
    log->cancel_at = 2 * iterations;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &psf_in, iterations, tv_lambda, &out,
                                         record_progress, log),
                   MRBCR_STATUS_CANCELLED, "cancelled", "cancelling at the last call");

    /* Wiener. */
    CHECK(mrbcr_wiener(&in, &psf_in, nsr, &out) == MRBCR_STATUS_OK, "Wiener");
    CHECK(memcmp(result, wiener_expected, 2 * n * sizeof *result) == 0,
          "Wiener is bit-identical to the Rust API's, every plane");
    CHECK(mrbcr_wiener(&padded_in, &psf64_in, nsr, &counts_out) == MRBCR_STATUS_OK,
          "Wiener with strides, a double PSF and a u16 output");
    same = 1;
    for (size_t p = 0; p < 2; p++) {
        for (size_t y = 0; y < h; y++) {
            for (size_t x = 0; x < w; x++) {
                same &= counts[p * out_plane + y * out_row + x] ==
                        to_u16(wiener_expected[p * n + y * w + x]);
            }
        }
    }
    CHECK(same, "the u16 Wiener output is the Rust API's result rounded and clamped");

    /* Errors found before any work leave the output untouched. */
    memset(result, 0xAB, 2 * n * sizeof *result);
    mrbcr_image_in bad_in;
    mrbcr_image_out bad_out;
    EXPECT_FAILURE(mrbcr_richardson_lucy(NULL, &psf_in, 2, 0, &out, NULL, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'input'", "NULL input");
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, NULL, 2, 0, &out, NULL, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'psf'", "NULL psf");
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &psf_in, 2, 0, NULL, NULL, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'output'", "NULL output");
    bad_in = psf_in, bad_in.data = NULL;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &bad_in, 2, 0, &out, NULL, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'psf->data'", "NULL psf data");
    EXPECT_FAILURE(mrbcr_wiener(&in, &psf_in, nsr, NULL), MRBCR_STATUS_NULL_PARAMETER,
                   "'output'", "Wiener: NULL output");
    bad_in = in, bad_in.data = NULL;
    EXPECT_FAILURE(mrbcr_wiener(&bad_in, &psf_in, nsr, &out), MRBCR_STATUS_NULL_PARAMETER,
                   "'input->data'", "Wiener: NULL input data");
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &psf_in, 0, 0, &out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT,
                   "Richardson-Lucy needs at least 1 iteration, got 0", "0 iterations");
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &psf_in, 2, 0.3, &out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the total-variation weight lambda must be at least 0 and below 0.25, got 0.3",
                   "lambda 0.3");
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &psf_in, 2, NAN, &out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "got NaN", "lambda NaN");
    bad_in = psf_in, bad_in.planes = 2;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &bad_in, 2, 0, &out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "the psf has 2 planes", "a two-plane PSF");
    bad_in = in, bad_in.pixel_type = 9;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&bad_in, &psf_in, 2, 0, &out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "the input's pixel type 9", "unknown pixel type");
    bad_in = in, bad_in.height = 0;
    EXPECT_FAILURE(mrbcr_wiener(&bad_in, &psf_in, nsr, &out), MRBCR_STATUS_INVALID_INPUT,
                   "the input is empty", "Wiener: an empty input");
    bad_in = in, bad_in.row_stride = 2 * w + 1;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&bad_in, &psf_in, 2, 0, &out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "must be a multiple of 2", "an odd row stride");
    bad_in = in, bad_in.data = (const char *)raw + 1;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&bad_in, &psf_in, 2, 0, &out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "not aligned", "a misaligned input");
    bad_in = in, bad_in.planes = SIZE_MAX / (2 * n) + 1;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&bad_in, &psf_in, 2, 0, &out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "larger than the address space", "overflow");
    bad_out = out, bad_out.planes = 1;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &psf_in, 2, 0, &bad_out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT,
                   "the output (1 planes of", "an output with fewer planes");
    bad_out = out, bad_out.width = w - 1;
    EXPECT_FAILURE(mrbcr_wiener(&in, &psf_in, nsr, &bad_out), MRBCR_STATUS_INVALID_INPUT,
                   "must have the dimensions of the input", "Wiener: another width");
    bad_out = out, bad_out.data = raw + 4, bad_out.pixel_type = MRBCR_PIXEL_TYPE_U16;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &psf_in, 2, 0, &bad_out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "the output's memory overlaps the input's",
                   "in place");
    bad_out = out, bad_out.data = psf, bad_out.width = 4, bad_out.height = 4,
    bad_out.planes = 1;
    bad_in = in, bad_in.width = 4, bad_in.height = 4, bad_in.planes = 1;
    EXPECT_FAILURE(mrbcr_wiener(&bad_in, &psf_in, nsr, &bad_out), MRBCR_STATUS_INVALID_INPUT,
                   "the output's memory overlaps the psf's", "output over the PSF");

    float *negative = malloc(side * side * sizeof *negative);
    memcpy(negative, psf, side * side * sizeof *negative);
    negative[side + 2] = -0.5f;
    bad_in = psf_in, bad_in.data = negative;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&in, &bad_in, 2, 0, &out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT, "the PSF must not be negative, got -0.5 at row 1, "
                   "column 2", "a negative PSF");
    memset(negative, 0, side * side * sizeof *negative);
    EXPECT_FAILURE(mrbcr_wiener(&in, &bad_in, nsr, &out), MRBCR_STATUS_INVALID_INPUT,
                   "the PSF sums to zero", "Wiener: a zero PSF");
    negative[0] = INFINITY;
    EXPECT_FAILURE(mrbcr_wiener(&in, &bad_in, nsr, &out), MRBCR_STATUS_INVALID_INPUT,
                   "the PSF holds a non-finite value (inf) at row 0, column 0",
                   "Wiener: an infinite PSF");
    free(negative);

    float *with_nan = calloc(2 * n, sizeof *with_nan);
    with_nan[n + 3 * w + 5] = NAN; /* plane 2, row 3, column 5 */
    bad_in = in, bad_in.data = with_nan, bad_in.pixel_type = MRBCR_PIXEL_TYPE_F32;
    EXPECT_FAILURE(mrbcr_richardson_lucy(&bad_in, &psf_in, 2, 0, &out, NULL, NULL),
                   MRBCR_STATUS_INVALID_INPUT,
                   "plane 2 of the input holds a non-finite value (NaN) at row 3, column 5",
                   "a NaN input");
    EXPECT_FAILURE(mrbcr_wiener(&bad_in, &psf_in, nsr, &out), MRBCR_STATUS_INVALID_INPUT,
                   "plane 2 of the input holds a non-finite value (NaN)", "Wiener: a NaN input");
    free(with_nan);
    CHECK(all_bytes(result, 2 * n * sizeof *result, 0xAB),
          "errors found before any work leave the output untouched");

    /* A bad noise-to-signal ratio is found by each plane's work: the output is zeroed. */
    EXPECT_FAILURE(mrbcr_wiener(&in, &psf_in, -1.0, &out), MRBCR_STATUS_INVALID_INPUT,
                   "the Wiener noise-to-signal ratio must be a number at least 0, got -1",
                   "Wiener: a negative ratio");
    CHECK(all_bytes(result, 2 * n * sizeof *result, 0), "a failed run leaves zeros");
    EXPECT_FAILURE(mrbcr_wiener(&in, &psf_in, INFINITY, &out), MRBCR_STATUS_INVALID_INPUT,
                   "got inf", "Wiener: an infinite ratio");
    CHECK(mrbcr_wiener(&in, &psf_in, nsr, &out) == MRBCR_STATUS_OK &&
              memcmp(result, wiener_expected, 2 * n * sizeof *result) == 0,
          "the library is usable after errors");

    free(log);
    free(padded);
    free(psf64);
    free(counts);
    free(result);
    free(raw);
    free(psf);
    free(rl_expected);
    free(wiener_expected);
}

/* ---- Scores ---- */

static void test_score(const char *dir) {
    size_t w = size_param("sim.width"), h = size_param("sim.height"), n = w * h;
    float *rl = fixture(dir, "rl.f32", 2 * n * sizeof(float));
    float *truth = fixture(dir, "sim_truth.f32", 2 * n * sizeof(float));
    uint16_t *raw = fixture(dir, "sim_raw.u16", 2 * n * sizeof(uint16_t));
    double *expected = fixture(dir, "scores.f64", 2 * sizeof(double));
    const mrbcr_image_in restored_in = {rl, MRBCR_PIXEL_TYPE_F32, w, h, 1, 0, 0};
    const mrbcr_image_in truth_in = {truth, MRBCR_PIXEL_TYPE_F32, w, h, 1, 0, 0};
    double psnr = 0, ssim = 0;
    CHECK(mrbcr_score(&restored_in, &truth_in, &psnr, &ssim) == MRBCR_STATUS_OK, "score");
    CHECK(memcmp(&psnr, &expected[0], sizeof psnr) == 0, "PSNR bit-identical to the Rust API's");
    CHECK(memcmp(&ssim, &expected[1], sizeof ssim) == 0, "SSIM bit-identical to the Rust API's");
    CHECK(isfinite(psnr) && ssim > 0.0 && ssim <= 1.0, "plausible scores");
    const mrbcr_image_in raw_in = {raw, MRBCR_PIXEL_TYPE_U16, w, h, 1, 0, 0};
    double raw_psnr = 0, raw_ssim = 0;
    CHECK(mrbcr_score(&raw_in, &truth_in, &raw_psnr, &raw_ssim) == MRBCR_STATUS_OK,
          "score of the raw u16 image");
    CHECK(raw_psnr < psnr, "the deconvolved image scores better than the raw one");

    const double untouched = -123.0;
    psnr = ssim = untouched;
    mrbcr_image_in bad;
    EXPECT_FAILURE(mrbcr_score(NULL, &truth_in, &psnr, &ssim), MRBCR_STATUS_NULL_PARAMETER,
                   "'restored'", "NULL restored");
    EXPECT_FAILURE(mrbcr_score(&restored_in, NULL, &psnr, &ssim), MRBCR_STATUS_NULL_PARAMETER,
                   "'truth'", "NULL truth");
    EXPECT_FAILURE(mrbcr_score(&restored_in, &truth_in, NULL, &ssim),
                   MRBCR_STATUS_NULL_PARAMETER, "'psnr_out'", "NULL psnr_out");
    EXPECT_FAILURE(mrbcr_score(&restored_in, &truth_in, &psnr, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'ssim_out'", "NULL ssim_out");
    bad = truth_in, bad.data = NULL;
    EXPECT_FAILURE(mrbcr_score(&restored_in, &bad, &psnr, &ssim), MRBCR_STATUS_NULL_PARAMETER,
                   "'truth->data'", "NULL truth data");
    bad = restored_in, bad.planes = 2;
    EXPECT_FAILURE(mrbcr_score(&bad, &truth_in, &psnr, &ssim), MRBCR_STATUS_INVALID_INPUT,
                   "the restored image has 2 planes", "two planes");
    bad = restored_in, bad.width = w - 1, bad.row_stride = w * sizeof(float);
    EXPECT_FAILURE(mrbcr_score(&bad, &truth_in, &psnr, &ssim), MRBCR_STATUS_INVALID_INPUT,
                   "the output is 32 x 39 but the ground truth is 32 x 40", /* rows x columns */
                   "sizes differ");
    bad = restored_in, bad.width = 10, bad.height = 10, bad.row_stride = w * sizeof(float);
    mrbcr_image_in small_truth = truth_in;
    small_truth.width = 10, small_truth.height = 10, small_truth.row_stride = w * sizeof(float);
    EXPECT_FAILURE(mrbcr_score(&bad, &small_truth, &psnr, &ssim), MRBCR_STATUS_INVALID_INPUT,
                   "SSIM needs images of at least 11 x 11 pixels, got 10 x 10", "too small");
    float *flat = calloc(n, sizeof *flat);
    bad = truth_in, bad.data = flat;
    EXPECT_FAILURE(mrbcr_score(&restored_in, &bad, &psnr, &ssim), MRBCR_STATUS_INVALID_INPUT,
                   "the ground truth is constant (0)", "a constant truth");
    flat[7] = NAN;
    bad = restored_in, bad.data = flat;
    EXPECT_FAILURE(mrbcr_score(&bad, &truth_in, &psnr, &ssim), MRBCR_STATUS_INVALID_INPUT,
                   "the output holds a non-finite value (NaN) at row 0, column 7", "a NaN");
    free(flat);
    CHECK(psnr == untouched && ssim == untouched, "failed calls leave the scores untouched");

    free(rl);
    free(truth);
    free(raw);
    free(expected);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    read_parameters(argv[1]);
    test_psf(argv[1]);
    test_simulate(argv[1]);
    test_deconvolution(argv[1]);
    test_score(argv[1]);
    printf("test_classical: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
