/** @file armsim_divide_f32.c  @brief Element-wise quotient of two operands, out[i] = clamp(a[i] / b[i]). */
#include "armsim_nn_support.h"

void armsim_divide_f32(const armsim_clamp *clamp, const float *a, const float *b, int32_t n,
                       float *out)
{
    for (int32_t i = 0; i < n; i++) {
        out[i] = armsim_clampf(a[i] / b[i], clamp);
    }
}
