/* One model and one set of options shared by several pthreads, each deconvolving the
 * first fixture case repeatedly: every result must be bit-identical to the Rust API's.
 *
 * Usage: test_threads FIXTURE_DIR */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "mrbcr.h"

enum { THREADS = 4, RUNS_PER_THREAD = 3 };

/* What the threads share (read only) and what each reports. */
typedef struct job {
    const mrbcr_model *model;
    const mrbcr_options *options;
    const test_case *c;
    const void *input;
    const void *expected;
    int mismatches;
    char error[512];
} job;

static void *run(void *arg) {
    job *j = arg;
    size_t out_bytes = case_pixels(j->c) * pixel_size(j->c->output_type);
    void *output = malloc(out_bytes);
    mrbcr_image_in in = {j->input, j->c->input_type, j->c->width, j->c->height, j->c->planes,
                         0, 0};
    mrbcr_image_out out = {output, j->c->output_type, j->c->width, j->c->height, j->c->planes,
                           0, 0};
    for (int r = 0; r < RUNS_PER_THREAD; r++) {
        memset(output, 0xAB, out_bytes);
        if (mrbcr_deconvolve(j->model, j->options, &in, &out, NULL, NULL) != MRBCR_STATUS_OK) {
            /* The message is this thread's own. */
            snprintf(j->error, sizeof j->error, "%s", mrbcr_last_error_message());
            j->mismatches++;
        } else if (memcmp(output, j->expected, out_bytes) != 0) {
            j->mismatches++;
        }
    }
    free(output);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    test_case cases[16];
    read_cases(argv[1], cases, 16);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", argv[1]);
    mrbcr_model *model = NULL;
    if (mrbcr_model_load(path, &model) != MRBCR_STATUS_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, mrbcr_last_error_message());
        return 1;
    }
    size_t len = 0;
    void *input = read_fixture(argv[1], cases[0].name, ".in", &len);
    void *expected = read_fixture(argv[1], cases[0].name, ".out", &len);
    mrbcr_options *options = case_options(&cases[0], 1);

    job jobs[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){model, options, &cases[0], input, expected, 0, ""};
        if (pthread_create(&threads[t], NULL, run, &jobs[t]) != 0) {
            fprintf(stderr, "cannot start thread %d\n", t);
            return 1;
        }
    }
    int failed = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        if (jobs[t].mismatches) {
            fprintf(stderr, "thread %d: %d of %d results differ from the Rust API's %s\n", t,
                    jobs[t].mismatches, RUNS_PER_THREAD, jobs[t].error);
            failed = 1;
        }
    }
    printf("test_threads: %d threads x %d runs of %s on one model: %s\n", THREADS,
           RUNS_PER_THREAD, cases[0].name, failed ? "FAILED" : "all bit-identical");
    mrbcr_options_free(options);
    mrbcr_model_free(model);
    free(input);
    free(expected);
    return failed;
}
