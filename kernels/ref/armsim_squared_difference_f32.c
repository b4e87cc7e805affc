/** @file armsim_squared_difference_f32.c
 *  @brief Element-wise squared difference, out[i] = clamp((a[i] - b[i])^2). */
#include "armsim_nn_support.h"

void armsim_squared_difference_f32(const armsim_clamp *clamp, const float *a, const float *b,
                                   int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float d = a[i] - b[i];
        out[i] = armsim_clampf(d * d, clamp);
    }
}
