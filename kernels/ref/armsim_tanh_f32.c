/** @file armsim_tanh_f32.c  @brief Hyperbolic tangent. */
#include <math.h>
#include "armsim_nn.h"

void armsim_tanh_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        out[i] = tanhf(in[i]);
    }
}
