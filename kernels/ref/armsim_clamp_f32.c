/** @file armsim_clamp_f32.c  @brief ReLU, ReLU6 and other clamps as a standalone op. */
#include "armsim_nn_support.h"

void armsim_clamp_f32(const armsim_clamp *clamp, const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        out[i] = armsim_clampf(in[i], clamp);
    }
}
