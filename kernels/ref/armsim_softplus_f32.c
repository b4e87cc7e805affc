/** @file armsim_softplus_f32.c  @brief Softplus: log(1 + exp(x)), computed without overflow. */
#include <math.h>
#include "armsim_nn.h"

void armsim_softplus_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    }
}
