/** @file armsim_hard_silu_f32.c  @brief Hard SiLU (hard swish): x * clip(x / 6 + 1/2, 0, 1). */
#include <math.h>
#include "armsim_nn.h"

void armsim_hard_silu_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = x * fminf(fmaxf(x / 6.0f + 0.5f, 0.0f), 1.0f);
    }
}
