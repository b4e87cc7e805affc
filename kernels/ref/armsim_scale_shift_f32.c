/** @file armsim_scale_shift_f32.c  @brief Per-channel x * scale + shift (BatchNorm, Rescaling). */
#include "armsim_nn_support.h"

void armsim_scale_shift_f32(const armsim_clamp *clamp, const float *in, int32_t n, int32_t c,
                            const float *scale, const float *shift, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const int32_t ch = i % c;
        out[i] = armsim_clampf(in[i] * scale[ch] + shift[ch], clamp);
    }
}
