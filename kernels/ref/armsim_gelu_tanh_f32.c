/** @file armsim_gelu_tanh_f32.c  @brief GELU, tanh approximation. */
#include <math.h>
#include "armsim_nn.h"

void armsim_gelu_tanh_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    }
}
