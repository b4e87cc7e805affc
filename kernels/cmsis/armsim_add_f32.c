/** @file armsim_add_f32.c  @brief Element-wise sum on CMSIS-NN's arm_elementwise_add_f32. */
#include "armsim_cmsis_f32.h"

void armsim_add_f32(const armsim_clamp *clamp, const float *a, const float *b, int32_t n,
                    float *out)
{
    (void)arm_elementwise_add_f32(a, b, out, clamp->min, clamp->max, n);
}
