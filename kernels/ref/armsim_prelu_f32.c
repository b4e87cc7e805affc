/** @file armsim_prelu_f32.c  @brief Parametric ReLU, one alpha per channel. */
#include "armsim_nn.h"

void armsim_prelu_f32(const float *in, int32_t n, int32_t c, const float *alpha, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = x >= 0.0f ? x : alpha[i % c] * x;
    }
}
