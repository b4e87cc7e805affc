/** @file armsim_pad_f32.c  @brief Zero padding of an NHWC tensor. */
#include "armsim_nn.h"

void armsim_pad_f32(const armsim_dims *in_dims, const float *in, int32_t top, int32_t left,
                    const armsim_dims *out_dims, float *out)
{
    const int32_t c = in_dims->c;
    for (int32_t y = 0; y < out_dims->h; y++) {
        for (int32_t x = 0; x < out_dims->w; x++) {
            const int32_t iy = y - top, ix = x - left;
            const int inside = iy >= 0 && iy < in_dims->h && ix >= 0 && ix < in_dims->w;
            float *dst = out + (y * out_dims->w + x) * c;
            for (int32_t ch = 0; ch < c; ch++) {
                dst[ch] = inside ? in[(iy * in_dims->w + ix) * c + ch] : 0.0f;
            }
        }
    }
}
