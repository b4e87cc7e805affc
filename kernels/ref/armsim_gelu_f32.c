/** @file armsim_gelu_f32.c  @brief GELU, exact form: x * Phi(x). */
#include <math.h>
#include "armsim_nn.h"

void armsim_gelu_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    }
}
