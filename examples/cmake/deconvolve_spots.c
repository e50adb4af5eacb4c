/* Restores a small synthetic image of blurred spots with the model bundled in the
 * library and prints how much sharper the spots became (their peak over the
 * background). Built by examples/cmake/CMakeLists.txt against the mrbcr C SDK. */
#include <stdint.h>
#include <stdio.h>

#include "mrbcr.h"

enum { SIZE = 96 };

/* The value at the centre of the spot at (32, 32) over the image's corner. */
static double peak_over_background(const float *pixels) {
    return pixels[32 * SIZE + 32] - pixels[2 * SIZE + 2];
}

int main(void) {
    static uint16_t input[SIZE * SIZE];
    static float input_f32[SIZE * SIZE];
    static float output[SIZE * SIZE];
    /* Spots on a 32-pixel grid, each blurred into a 5 x 5 pyramid. */
    for (int y = 0; y < SIZE; y++) {
        for (int x = 0; x < SIZE; x++) {
            int dy = (y + 16) % 32 - 16, dx = (x + 16) % 32 - 16;
            int distance = (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
            int value = 200 + (distance < 5 ? 800 * (5 - distance) : 0);
            input[y * SIZE + x] = (uint16_t)value;
            input_f32[y * SIZE + x] = (float)value;
        }
    }

    printf("mrbcr %s (header %s)\n", mrbcr_version(), MRBCR_VERSION);
    struct mrbcr_model *model = NULL;
    if (mrbcr_model_new_default(&model) != MRBCR_STATUS_OK) {
        fprintf(stderr, "%s\n", mrbcr_last_error_message());
        return 1;
    }
    struct mrbcr_image_in in = {input, MRBCR_PIXEL_TYPE_U16, SIZE, SIZE, 1, 0, 0};
    struct mrbcr_image_out out = {output, MRBCR_PIXEL_TYPE_F32, SIZE, SIZE, 1, 0, 0};
    enum mrbcr_status status = mrbcr_deconvolve(model, NULL, &in, &out, NULL, NULL);
    mrbcr_model_free(model);
    if (status != MRBCR_STATUS_OK) {
        fprintf(stderr, "%s\n", mrbcr_last_error_message());
        return 1;
    }
    double before = peak_over_background(input_f32), after = peak_over_background(output);
    printf("spot peak over background: %.1f before, %.1f after\n", before, after);
    return after > before ? 0 : 1;
}
