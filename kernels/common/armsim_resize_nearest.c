/** @file armsim_resize_nearest.c  @brief Nearest-neighbour resize by row/column tables. */
#include "armsim_nn_copy.h"

void armsim_resize_nearest(const void *input, int32_t elem_size, int32_t in_w,
                           int32_t channels, int32_t out_h, int32_t out_w, const int32_t *ys,
                           const int32_t *xs, void *output)
{
    const int32_t pixel = channels * elem_size;
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    for (int32_t y = 0; y < out_h; y++) {
        const uint8_t *row = in + ys[y] * in_w * pixel;
        for (int32_t x = 0; x < out_w; x++) {
            const uint8_t *p = row + xs[x] * pixel;
            for (int32_t k = 0; k < pixel; k++) {
                *out++ = p[k];
            }
        }
    }
}
