/** @file armsim_rsqrt_f32.c  @brief Element-wise rsqrt (TFLite RSQRT): 1.0f / sqrtf(x). */
#include <math.h>
#include "armsim_nn.h"

void armsim_rsqrt_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = 1.0f / sqrtf(x);
    }
}
