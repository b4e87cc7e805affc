/** @file armsim_mish_f32.c  @brief Mish: x * tanh(softplus(x)). */
#include <math.h>
#include "armsim_nn.h"

void armsim_mish_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = x * tanhf(fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))));
    }
}
