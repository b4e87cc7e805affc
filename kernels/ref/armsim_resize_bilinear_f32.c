/** @file armsim_resize_bilinear_f32.c  @brief Bilinear resize (TFLite's reference formula). */
#include "armsim_nn.h"

void armsim_resize_bilinear_f32(const float *in, int32_t in_w, int32_t channels,
                                int32_t out_h, int32_t out_w, const int32_t *y01,
                                const float *dy, const int32_t *x01, const float *dx,
                                float *out)
{
    for (int32_t y = 0; y < out_h; y++) {
        const float *r0 = in + y01[2 * y] * in_w * channels;
        const float *r1 = in + y01[2 * y + 1] * in_w * channels;
        const float fy = dy[y];
        for (int32_t x = 0; x < out_w; x++) {
            const int32_t c0 = x01[2 * x] * channels, c1 = x01[2 * x + 1] * channels;
            const float fx = dx[x];
            for (int32_t c = 0; c < channels; c++) {
                *out++ = r0[c0 + c] * (1.0f - fy) * (1.0f - fx) + r1[c0 + c] * fy * (1.0f - fx) +
                         r0[c1 + c] * (1.0f - fy) * fx + r1[c1 + c] * fy * fx;
            }
        }
    }
}
