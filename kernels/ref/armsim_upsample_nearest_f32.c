/** @file armsim_upsample_nearest_f32.c  @brief Nearest-neighbour upsampling by whole factors. */
#include "armsim_nn.h"

void armsim_upsample_nearest_f32(const armsim_dims *in_dims, const float *in, int32_t sy,
                                 int32_t sx, float *out)
{
    const int32_t c = in_dims->c, ow = in_dims->w * sx;
    for (int32_t y = 0; y < in_dims->h * sy; y++) {
        for (int32_t x = 0; x < ow; x++) {
            const float *src = in + ((y / sy) * in_dims->w + x / sx) * c;
            float *dst = out + (y * ow + x) * c;
            for (int32_t ch = 0; ch < c; ch++) {
                dst[ch] = src[ch];
            }
        }
    }
}
