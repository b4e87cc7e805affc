/** @file armsim_square_f32.c  @brief Element-wise square (TFLite SQUARE): x * x. */
#include <math.h>
#include "armsim_nn.h"

void armsim_square_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        const float x = in[i];
        out[i] = x * x;
    }
}
