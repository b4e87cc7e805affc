/** @file armsim_elu_f32.c  @brief ELU (alpha 1): x if x > 0 else exp(x) - 1. */
#include <math.h>
#include "armsim_nn.h"

void armsim_elu_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = x > 0.0f ? x : expm1f(x);
    }
}
