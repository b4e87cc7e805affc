/** @file armsim_resize_bilinear_s8.c  @brief int8 bilinear resize (TFLite's integer kernel). */
#include "armsim_nn_s8.h"

void armsim_resize_bilinear_s8(const int8_t *in, int32_t in_w, int32_t channels,
                               int32_t out_h, int32_t out_w, const int32_t *ys,
                               const int32_t *xs, int8_t *out)
{
    for (int32_t y = 0; y < out_h; y++) {
        const int8_t *r0 = in + ys[3 * y] * in_w * channels;
        const int8_t *r1 = in + ys[3 * y + 1] * in_w * channels;
        const int32_t wy = ys[3 * y + 2];
        for (int32_t x = 0; x < out_w; x++) {
            const int32_t c0 = xs[3 * x] * channels, c1 = xs[3 * x + 1] * channels;
            const int32_t wx = xs[3 * x + 2];
            for (int32_t c = 0; c < channels; c++) {
                /* every term fits 31 bits: |q| <= 128, weights below 1536 */
                const int32_t acc = r0[c0 + c] * (1024 - wy) * (1024 - wx) +
                                    r1[c0 + c] * wy * (1024 - wx) +
                                    r0[c1 + c] * (1024 - wy) * wx + r1[c1 + c] * wy * wx;
                const int32_t round = acc > 0 ? (1 << 19) : -(1 << 19);
                *out++ = (int8_t)((acc + round) / (1 << 20));
            }
        }
    }
}
