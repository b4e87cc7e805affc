/** @file armsim_transpose_f32.c  @brief A permutation of three axes, as strided copy. */
#include "armsim_nn.h"

void armsim_transpose_f32(const float *in, int32_t d0, int32_t d1, int32_t d2, int32_t s0,
                          int32_t s1, int32_t s2, float *out)
{
    for (int32_t a = 0; a < d0; a++) {
        for (int32_t b = 0; b < d1; b++) {
            for (int32_t c = 0; c < d2; c++) {
                *out++ = in[a * s0 + b * s1 + c * s2];
            }
        }
    }
}
