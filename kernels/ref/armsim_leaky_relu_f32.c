/** @file armsim_leaky_relu_f32.c  @brief Leaky ReLU. */
#include "armsim_nn.h"

void armsim_leaky_relu_f32(const float *in, int32_t n, float alpha, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = x >= 0.0f ? x : alpha * x;
    }
}
