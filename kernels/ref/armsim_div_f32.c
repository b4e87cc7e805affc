/** @file armsim_div_f32.c  @brief Division by a constant, out[i] = clamp(in[i] / d). */
#include "armsim_nn_support.h"

void armsim_div_f32(const armsim_clamp *clamp, const float *in, int32_t n, float d, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        out[i] = armsim_clampf(in[i] / d, clamp);
    }
}
