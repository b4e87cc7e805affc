/** @file armsim_selu_f32.c  @brief SELU: scale * (x if x > 0 else alpha * (exp(x) - 1)). */
#include <math.h>
#include "armsim_nn.h"

void armsim_selu_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = 1.0507009873554805f * (x > 0.0f ? x : 1.6732632423543772f * expm1f(x));
    }
}
