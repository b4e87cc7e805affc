/** @file armsim_sigmoid_f32.c  @brief Logistic sigmoid. */
#include <math.h>
#include "armsim_nn.h"

void armsim_sigmoid_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        out[i] = 1.0f / (1.0f + expf(-in[i]));
    }
}
