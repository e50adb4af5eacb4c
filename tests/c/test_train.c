/* Training through the C ABI from C: the run of tests/ffi_train_fixtures.rs repeated
 * through the header gives its model file byte for byte; a run stopped by its
 * progress callback and resumed gives it too; fine-tuning from a model file and from
 * the bundled model, TIFF pairs, and every error path with its message (a diverging
 * run included: MRBCR_STATUS_TRAINING); the getters give the core's defaults
 * (defaults.txt) on fresh options and what the setters set.
 *
 * Usage: test_train FIXTURE_DIR WORK_DIR [--valgrind]
 * FIXTURE_DIR is what write_train_fixtures wrote; WORK_DIR an empty directory for the
 * runs. --valgrind leaves out the two simulated runs (their simulation and 24 steps
 * take minutes under valgrind; the short runs on TIFF pairs cross the same boundary).
 * Exits 0 if every check passed. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fixtures.h"
#include "mrbcr.h"

/* What the training callback saw. */
typedef struct train_log {
    uint64_t steps[64];
    double train_losses[64];
    double validation_losses[64];
    size_t calls;
    uint64_t stop_at; /* return 0 at this step; 0 = never */
} train_log;

static int record_training(uint64_t step, double train_loss, double validation_loss,
                           double seconds_per_step, void *user_data) {
    train_log *log = user_data;
    (void)seconds_per_step;
    if (log->calls < 64) {
        log->steps[log->calls] = step;
        log->train_losses[log->calls] = train_loss;
        log->validation_losses[log->calls] = validation_loss;
    }
    log->calls++;
    return log->stop_at == 0 || step < log->stop_at;
}

/* <a>/<b> into `out`; exits if it does not fit. */
static void join(char *out, size_t size, const char *a, const char *b) {
    int n = snprintf(out, size, "%s/%s", a, b);
    if (n < 0 || (size_t)n >= size) {
        fprintf(stderr, "path too long: %s/%s\n", a, b);
        exit(2);
    }
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The training options of the fixture's run (tests/ffi_train_fixtures.rs: config). */
static mrbcr_train_options *fixture_options(const char *output_dir) {
    mrbcr_train_options *o = NULL;
    CHECK(mrbcr_train_options_new(output_dir, &o) == MRBCR_STATUS_OK && o, "options");
    CHECK(mrbcr_train_options_set_patch_size(o, 16) == MRBCR_STATUS_OK, "patch size");
    CHECK(mrbcr_train_options_set_batch_size(o, 3) == MRBCR_STATUS_OK, "batch size");
    CHECK(mrbcr_train_options_set_steps(o, 12) == MRBCR_STATUS_OK, "steps");
    CHECK(mrbcr_train_options_set_learning_rate(o, 2e-3, 1e-4) == MRBCR_STATUS_OK, "lr");
    CHECK(mrbcr_train_options_set_seed(o, 9) == MRBCR_STATUS_OK, "seed");
    CHECK(mrbcr_train_options_set_augmentation(o, 1, 1) == MRBCR_STATUS_OK, "augmentation");
    CHECK(mrbcr_train_options_set_validation(o, 4, 0) == MRBCR_STATUS_OK, "validation");
    CHECK(mrbcr_train_options_set_log_every(o, 4) == MRBCR_STATUS_OK, "log every");
    CHECK(mrbcr_train_options_set_checkpoint_every(o, 4) == MRBCR_STATUS_OK, "checkpoints");
    CHECK(mrbcr_train_options_set_threads(o, 2) == MRBCR_STATUS_OK, "threads");
    CHECK(mrbcr_train_options_set_init_seed(o, 1) == MRBCR_STATUS_OK, "init seed");
    return o;
}

/* The simulated data of the fixture's run (simulated_data). */
static const double pixel_sizes[2] = {60.0, 70.0};

static mrbcr_simulation_params *fixture_simulation(void) {
    mrbcr_simulation_params *p = NULL;
    CHECK(mrbcr_simulation_params_new(&p) == MRBCR_STATUS_OK, "simulation params");
    CHECK(mrbcr_simulation_params_set_size(p, 48, 48) == MRBCR_STATUS_OK, "size");
    CHECK(mrbcr_simulation_params_set_psf_size(p, 31) == MRBCR_STATUS_OK, "psf size");
    CHECK(mrbcr_simulation_params_set_oversampling(p, 2) == MRBCR_STATUS_OK, "oversampling");
    return p;
}

static mrbcr_status train_fixture(const mrbcr_train_options *o,
                                  const mrbcr_simulation_params *p, train_log *log,
                                  mrbcr_model **model_out) {
    return mrbcr_train_simulated(o, p, pixel_sizes, 2, 4, 1, 5, record_training, log,
                                 model_out);
}

/* The file at `path` has the bytes of the fixture `name`.safetensors. */
static int same_as_fixture(const char *fixtures, const char *name, const char *path) {
    size_t expected_len = 0, actual_len = 0;
    void *expected = read_fixture(fixtures, name, ".safetensors", &expected_len);
    FILE *f = fopen(path, "rb");
    int same = 0;
    if (f) {
        void *actual = malloc(expected_len + 1);
        actual_len = fread(actual, 1, expected_len + 1, f);
        same = actual_len == expected_len && memcmp(actual, expected, expected_len) == 0;
        free(actual);
        fclose(f);
    }
    free(expected);
    return same;
}

static void test_simulated_run_matches_rust(const char *fixtures, const char *work) {
    char dir[4096], model_file[4096];
    join(dir, sizeof dir, work, "whole");
    join(model_file, sizeof model_file, dir, "model.safetensors");
    mrbcr_train_options *o = fixture_options(dir);
    mrbcr_simulation_params *p = fixture_simulation();
    train_log log = {0};
    mrbcr_model *model = NULL;
    CHECK(train_fixture(o, p, &log, &model) == MRBCR_STATUS_OK && model, "the run");
    CHECK(log.calls == 3 && log.steps[0] == 4 && log.steps[1] == 8 && log.steps[2] == 12,
          "a call every 4 steps");
    int finite = 1;
    for (size_t i = 0; i < 3 && i < log.calls; i++) {
        finite &= isfinite(log.train_losses[i]) && isfinite(log.validation_losses[i]) &&
                  log.train_losses[i] > 0;
    }
    CHECK(finite, "training and validation losses at each call");
    CHECK(same_as_fixture(fixtures, "reference", model_file),
          "model.safetensors is the Rust API's, byte for byte");
    const char *value = NULL;
    CHECK(mrbcr_model_metadata(model, "train.steps", &value, NULL) == MRBCR_STATUS_OK &&
              strcmp(value, "12") == 0,
          "the returned model is the trained one");
    CHECK(mrbcr_model_metadata(model, "data.pixel_size_nm", &value, NULL) == MRBCR_STATUS_OK &&
              strstr(value, "60.0, 70.0") != NULL,
          "its metadata names the pixel sizes");
    mrbcr_model_free(model);

    /* The directory now holds a checkpoint: a new run there is refused. */
    model = NULL;
    EXPECT_FAILURE(train_fixture(o, p, &log, &model), MRBCR_STATUS_INVALID_INPUT,
                   "checkpoint", "a new run over a checkpoint");
    CHECK(model == NULL, "no model on failure");
    mrbcr_simulation_params_free(p);
    mrbcr_train_options_free(o);
}

static void test_stopped_and_resumed_run_matches_rust(const char *fixtures,
                                                      const char *work) {
    char dir[4096], model_file[4096];
    join(dir, sizeof dir, work, "halves");
    join(model_file, sizeof model_file, dir, "model.safetensors");
    mrbcr_train_options *o = fixture_options(dir);
    mrbcr_simulation_params *p = fixture_simulation();
    train_log log = {.stop_at = 8};
    mrbcr_model *model = NULL;
    EXPECT_FAILURE(train_fixture(o, p, &log, &model), MRBCR_STATUS_CANCELLED, "cancel",
                   "a run the callback stops");
    CHECK(model == NULL && !file_exists(model_file), "no model when stopped");
    CHECK(log.calls == 2 && log.steps[1] == 8, "stopped at step 8");
    CHECK(mrbcr_train_options_set_resume(o, 1) == MRBCR_STATUS_OK, "resume");
    train_log rest = {0};
    CHECK(train_fixture(o, p, &rest, NULL) == MRBCR_STATUS_OK, "the resumed run");
    CHECK(rest.calls == 1 && rest.steps[0] == 12, "it continues from step 8");
    CHECK(same_as_fixture(fixtures, "reference", model_file),
          "the resumed run's model is the uninterrupted one's, byte for byte");
    mrbcr_simulation_params_free(p);
    mrbcr_train_options_free(o);
}

static void test_fine_tuning_and_tiff_pairs(const char *fixtures, const char *work) {
    char dir[4096], low[4096], high[4096], short_high[4096], reference[4096];
    join(low, sizeof low, fixtures, "low.tif");
    join(high, sizeof high, fixtures, "high.tif");
    join(short_high, sizeof short_high, fixtures, "high-short.tif");
    join(reference, sizeof reference, fixtures, "reference.safetensors");

    /* Fine-tuning the fixture's model on the TIFF pairs (2 train, 1 validation). */
    join(dir, sizeof dir, work, "pairs");
    mrbcr_train_options *o = fixture_options(dir);
    CHECK(mrbcr_train_options_set_steps(o, 2) == MRBCR_STATUS_OK, "steps");
    CHECK(mrbcr_train_options_set_validation(o, 1, 0) == MRBCR_STATUS_OK, "validation");
    CHECK(mrbcr_train_options_set_init_model_file(o, reference) == MRBCR_STATUS_OK,
          "init from a model file");
    train_log log = {0};
    mrbcr_model *model = NULL;
    CHECK(mrbcr_train_tiff_pairs(o, low, high, 0.3, 0, record_training, &log, &model) ==
                  MRBCR_STATUS_OK &&
              model,
          "training on TIFF pairs");
    const char *value = NULL;
    CHECK(mrbcr_model_metadata(model, "data.pairs", &value, NULL) == MRBCR_STATUS_OK &&
              strcmp(value, "2 training, 1 validation") == 0,
          "one pair of three held out");
    CHECK(mrbcr_model_metadata(model, "provenance", &value, NULL) == MRBCR_STATUS_OK &&
              strstr(value, "reference.safetensors") != NULL,
          "the provenance names the starting model");
    mrbcr_model_free(model);

    /* Mismatched pairs, a missing file, a bad fraction: refused with the reason. */
    join(dir, sizeof dir, work, "refused");
    mrbcr_train_options_free(o);
    o = fixture_options(dir);
    model = NULL;
    EXPECT_FAILURE(mrbcr_train_tiff_pairs(o, low, short_high, 0.3, 0, NULL, NULL, &model),
                   MRBCR_STATUS_INVALID_INPUT, "must match one to one",
                   "3 low against 2 high images");
    EXPECT_FAILURE(mrbcr_train_tiff_pairs(o, low, "/nonexistent/high.tif", 0.3, 0, NULL,
                                          NULL, &model),
                   MRBCR_STATUS_IO, "/nonexistent/high.tif", "a missing file");
    EXPECT_FAILURE(mrbcr_train_tiff_pairs(o, low, high, 1.5, 0, NULL, NULL, &model),
                   MRBCR_STATUS_INVALID_INPUT, "1.5", "a validation fraction above 1");
    EXPECT_FAILURE(mrbcr_train_tiff_pairs(o, NULL, high, 0.3, 0, NULL, NULL, &model),
                   MRBCR_STATUS_NULL_PARAMETER, "'low'", "NULL low");
    CHECK(model == NULL, "no model on failure");

    /* Bad settings are named when the run starts; nothing is written. */
    CHECK(mrbcr_train_options_set_patch_size(o, 18) == MRBCR_STATUS_OK, "set, not checked");
    EXPECT_FAILURE(mrbcr_train_tiff_pairs(o, low, high, 0.3, 0, NULL, NULL, &model),
                   MRBCR_STATUS_INVALID_INPUT, "18", "a patch size not a multiple of 4");
    CHECK(mrbcr_train_options_set_patch_size(o, 16) == MRBCR_STATUS_OK, "patch size");
    CHECK(mrbcr_train_options_set_learning_rate(o, 1e-3, 1e-2) == MRBCR_STATUS_OK, "lr");
    EXPECT_FAILURE(mrbcr_train_tiff_pairs(o, low, high, 0.3, 0, NULL, NULL, &model),
                   MRBCR_STATUS_INVALID_INPUT, "final learning rate",
                   "a final learning rate above the first");
    CHECK(mrbcr_train_options_set_learning_rate(o, 1e-3, 0) == MRBCR_STATUS_OK, "lr");
    CHECK(mrbcr_train_options_set_log_loss(o, 1, -0.5) == MRBCR_STATUS_OK, "set, not checked");
    EXPECT_FAILURE(mrbcr_train_tiff_pairs(o, low, high, 0.3, 0, NULL, NULL, &model),
                   MRBCR_STATUS_INVALID_INPUT, "floor of the logarithmic batch loss",
                   "a negative floor of the log loss");
    CHECK(mrbcr_train_options_set_log_loss(o, 0, 0) == MRBCR_STATUS_OK, "mean loss");
    CHECK(!file_exists(dir), "no output directory for refused runs");

    /* A learning rate of 1e30 diverges: the training status, and no model. */
    char diverged[4096], diverged_model[4096];
    join(diverged, sizeof diverged, work, "diverged");
    join(diverged_model, sizeof diverged_model, diverged, "model.safetensors");
    mrbcr_train_options *huge = fixture_options(diverged);
    CHECK(mrbcr_train_options_set_learning_rate(huge, 1e30, 0) == MRBCR_STATUS_OK, "lr 1e30");
    CHECK(mrbcr_train_options_set_steps(huge, 4) == MRBCR_STATUS_OK, "steps");
    EXPECT_FAILURE(mrbcr_train_tiff_pairs(huge, low, high, 0.3, 0, NULL, NULL, &model),
                   MRBCR_STATUS_TRAINING, "diverged", "a learning rate of 1e30");
    CHECK(model == NULL && !file_exists(diverged_model), "no model from a diverged run");
    mrbcr_train_options_free(huge);

    /* Fine-tuning the bundled model, and a model file that is not one. */
    CHECK(mrbcr_train_options_set_init_default(o) == MRBCR_STATUS_OK, "init default");
    EXPECT_FAILURE(mrbcr_train_options_set_init_model_file(o, low), MRBCR_STATUS_MODEL_FILE,
                   "low.tif", "a TIFF as the starting model");
    CHECK(mrbcr_train_options_set_learning_rate(o, 1e-3, 0) == MRBCR_STATUS_OK, "lr");
    CHECK(mrbcr_train_options_set_steps(o, 1) == MRBCR_STATUS_OK, "steps");
    CHECK(mrbcr_train_options_set_validation(o, 0, 0) == MRBCR_STATUS_OK, "no validation");
    CHECK(mrbcr_train_tiff_pairs(o, low, high, 0.3, 1, NULL, NULL, &model) == MRBCR_STATUS_OK &&
              model,
          "one step from the bundled model, truth in the input's units");
    CHECK(mrbcr_model_metadata(model, "train.init", &value, NULL) == MRBCR_STATUS_OK &&
              strcmp(value, "<bundled default model>") == 0,
          "the metadata says it started from the bundled model");
    CHECK(mrbcr_model_metadata(model, "data.pairs", &value, NULL) == MRBCR_STATUS_OK &&
              strcmp(value, "3 training, 0 validation") == 0,
          "without validation every pair trains");
    mrbcr_model_free(model);
    mrbcr_train_options_free(o);
}

/* The value of `name` in FIXTURE_DIR/defaults.txt (`name value` lines, written by
 * write_train_fixtures from the core's defaults); exits if it is missing. */
static double fixture_default(const char *fixtures, const char *name) {
    char path[4096], key[64];
    double value = 0;
    join(path, sizeof path, fixtures, "defaults.txt");
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    while (fscanf(f, "%63s %lf", key, &value) == 2) {
        if (strcmp(key, name) == 0) {
            fclose(f);
            return value;
        }
    }
    fclose(f);
    fprintf(stderr, "%s: no default '%s'\n", path, name);
    exit(2);
}

/* The getters of fresh options give the core's defaults; after the fixture's setters,
 * the values set; and the defaults of the runs' data arguments. */
static void test_getters(const char *fixtures, const char *work) {
    char dir[4096];
    join(dir, sizeof dir, work, "getters");
    mrbcr_train_options *o = NULL;
    CHECK(mrbcr_train_options_new(dir, &o) == MRBCR_STATUS_OK, "options");
    size_t patch = 0, batch = 0, patience = 0, threads = 99;
    uint64_t steps = 0, seed = 0, every = 0, log_every = 0, checkpoints = 0, init_seed = 0;
    double first = 0, last = -1;
    int flips = -1, noise = -1, resume = -1;
#define D(name) fixture_default(fixtures, name)
    CHECK(mrbcr_train_options_get_patch_size(o, &patch) == MRBCR_STATUS_OK &&
              patch == D("patch_size"), "default patch size");
    CHECK(mrbcr_train_options_get_batch_size(o, &batch) == MRBCR_STATUS_OK &&
              batch == D("batch_size"), "default batch size");
    CHECK(mrbcr_train_options_get_steps(o, &steps) == MRBCR_STATUS_OK && steps == D("steps"),
          "default steps");
    CHECK(mrbcr_train_options_get_learning_rate(o, &first, &last) == MRBCR_STATUS_OK &&
              first == D("learning_rate") && last == D("final_learning_rate"),
          "default learning rate");
    CHECK(mrbcr_train_options_get_seed(o, &seed) == MRBCR_STATUS_OK && seed == D("seed"),
          "default seed");
    CHECK(mrbcr_train_options_get_augmentation(o, &flips, &noise) == MRBCR_STATUS_OK &&
              flips == D("flips") && noise == D("noise"),
          "default augmentation");
    int log_loss = -1;
    double floor = -1;
    CHECK(mrbcr_train_options_get_log_loss(o, &log_loss, &floor) == MRBCR_STATUS_OK &&
              log_loss == D("log_loss") && floor == D("log_loss_floor"),
          "default batch loss");
    CHECK(mrbcr_train_options_get_validation(o, &every, &patience) == MRBCR_STATUS_OK &&
              every == D("validate_every") && patience == D("patience"),
          "default validation");
    CHECK(mrbcr_train_options_get_log_every(o, &log_every) == MRBCR_STATUS_OK &&
              log_every == D("log_every"), "default log every");
    CHECK(mrbcr_train_options_get_checkpoint_every(o, &checkpoints) == MRBCR_STATUS_OK &&
              checkpoints == D("checkpoint_every"), "default checkpoint every");
    CHECK(mrbcr_train_options_get_resume(o, &resume) == MRBCR_STATUS_OK &&
              resume == D("resume"), "default resume");
    CHECK(mrbcr_train_options_get_threads(o, &threads) == MRBCR_STATUS_OK &&
              threads == D("threads"), "default threads");
    CHECK(mrbcr_train_options_get_init_seed(o, &init_seed) == MRBCR_STATUS_OK &&
              init_seed == D("init_seed"), "default init seed");
    size_t images = 0, validation_images = 0;
    uint64_t data_seed = 0;
    double fraction = 0;
    CHECK(mrbcr_train_simulated_defaults(&images, &validation_images, &data_seed) ==
                  MRBCR_STATUS_OK &&
              images == D("images") && validation_images == D("validation_images") &&
              data_seed == D("data_seed"),
          "defaults of the simulated data");
    CHECK(mrbcr_train_tiff_pairs_defaults(&fraction) == MRBCR_STATUS_OK &&
              fraction == D("validation_fraction"),
          "default validation fraction");
#undef D
    mrbcr_train_options_free(o);

    o = fixture_options(dir);
    CHECK(mrbcr_train_options_set_resume(o, 7) == MRBCR_STATUS_OK, "resume");
    CHECK(mrbcr_train_options_set_augmentation(o, 0, 5) == MRBCR_STATUS_OK, "augmentation");
    mrbcr_train_options_get_patch_size(o, &patch);
    mrbcr_train_options_get_batch_size(o, &batch);
    mrbcr_train_options_get_steps(o, &steps);
    mrbcr_train_options_get_learning_rate(o, &first, &last);
    mrbcr_train_options_get_seed(o, &seed);
    mrbcr_train_options_get_augmentation(o, &flips, &noise);
    mrbcr_train_options_get_validation(o, &every, &patience);
    mrbcr_train_options_get_log_every(o, &log_every);
    mrbcr_train_options_get_checkpoint_every(o, &checkpoints);
    mrbcr_train_options_get_resume(o, &resume);
    mrbcr_train_options_get_threads(o, &threads);
    CHECK(patch == 16 && batch == 3 && steps == 12, "patch size, batch size, steps as set");
    CHECK(first == 2e-3 && last == 1e-4 && seed == 9, "learning rates and seed as set");
    CHECK(flips == 0 && noise == 1 && resume == 1, "flags read back as 0 or 1");
    CHECK(every == 4 && patience == 0 && log_every == 4 && checkpoints == 4 && threads == 2,
          "validation, log, checkpoints and threads as set");
    CHECK(mrbcr_train_options_set_log_loss(o, 3, 0.25) == MRBCR_STATUS_OK &&
              mrbcr_train_options_get_log_loss(o, &log_loss, &floor) == MRBCR_STATUS_OK &&
              log_loss == 1 && floor == 0.25,
          "log loss as set, its flag read back as 1");
    CHECK(mrbcr_train_options_set_log_loss(o, 0, 0.25) == MRBCR_STATUS_OK &&
              mrbcr_train_options_get_log_loss(o, &log_loss, &floor) == MRBCR_STATUS_OK &&
              log_loss == 0 && floor == 0,
          "log loss off again: the mean");
    CHECK(mrbcr_train_options_set_init_seed(o, 12) == MRBCR_STATUS_OK &&
              mrbcr_train_options_get_init_seed(o, &init_seed) == MRBCR_STATUS_OK &&
              init_seed == 12,
          "init seed as set");
    CHECK(mrbcr_train_options_set_init_default(o) == MRBCR_STATUS_OK, "init default");
    init_seed = 77;
    EXPECT_FAILURE(mrbcr_train_options_get_init_seed(o, &init_seed), MRBCR_STATUS_INVALID_INPUT,
                   "bundled default model", "no seed for a model's weights");
    CHECK(init_seed == 77, "nothing written on failure");
    EXPECT_FAILURE(mrbcr_train_options_get_patch_size(NULL, &patch),
                   MRBCR_STATUS_NULL_PARAMETER, "'options'", "getter of NULL options");
    EXPECT_FAILURE(mrbcr_train_options_get_steps(o, NULL), MRBCR_STATUS_NULL_PARAMETER,
                   "'steps_out'", "NULL out-pointer");
    first = 5;
    EXPECT_FAILURE(mrbcr_train_options_get_learning_rate(o, &first, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'last_out'", "NULL second out-pointer");
    CHECK(first == 5, "a pair getter writes nothing if one out-pointer is NULL");
    EXPECT_FAILURE(mrbcr_train_simulated_defaults(&images, NULL, &data_seed),
                   MRBCR_STATUS_NULL_PARAMETER, "'validation_images_out'",
                   "NULL out-pointer of the simulated defaults");
    EXPECT_FAILURE(mrbcr_train_tiff_pairs_defaults(NULL), MRBCR_STATUS_NULL_PARAMETER,
                   "'validation_fraction_out'", "NULL out-pointer of the TIFF defaults");
    mrbcr_train_options_free(o);
    CHECK(!file_exists(dir), "reading options writes nothing");
}

static void test_null_parameters(void) {
    mrbcr_train_options *o = NULL;
    EXPECT_FAILURE(mrbcr_train_options_new(NULL, &o), MRBCR_STATUS_NULL_PARAMETER,
                   "'output_dir'", "NULL output_dir");
    EXPECT_FAILURE(mrbcr_train_options_new("x", NULL), MRBCR_STATUS_NULL_PARAMETER,
                   "'options_out'", "NULL options_out");
    EXPECT_FAILURE(mrbcr_train_options_set_steps(NULL, 3), MRBCR_STATUS_NULL_PARAMETER,
                   "'options'", "NULL options");
    EXPECT_FAILURE(mrbcr_train_simulated(NULL, NULL, NULL, 0, 1, 1, 1, NULL, NULL, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'options'", "NULL options to a run");
    CHECK(mrbcr_train_options_new("unused", &o) == MRBCR_STATUS_OK, "options");
    EXPECT_FAILURE(mrbcr_train_simulated(o, NULL, NULL, 2, 1, 1, 1, NULL, NULL, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'pixel_sizes_nm'",
                   "NULL pixel sizes with a count");
    EXPECT_FAILURE(mrbcr_train_options_set_init_model_file(o, NULL),
                   MRBCR_STATUS_NULL_PARAMETER, "'path'", "NULL model file");
    mrbcr_train_options_free(o);
    mrbcr_train_options_free(NULL);
}

int main(int argc, char **argv) {
    int under_valgrind = argc == 4 && strcmp(argv[3], "--valgrind") == 0;
    if (argc != 3 && !under_valgrind) {
        fprintf(stderr, "usage: %s FIXTURE_DIR WORK_DIR [--valgrind]\n", argv[0]);
        return 2;
    }
    test_null_parameters();
    test_getters(argv[1], argv[2]);
    if (!under_valgrind) {
        test_simulated_run_matches_rust(argv[1], argv[2]);
        test_stopped_and_resumed_run_matches_rust(argv[1], argv[2]);
    }
    test_fine_tuning_and_tiff_pairs(argv[1], argv[2]);
    printf("test_train: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
