/** @file argmax_f32.c  @brief Index of the maximum (reference). */
#include "armsim_kernels.h"

int32_t armsim_argmax_f32(const float *in, int n)
{
    int32_t best = 0;
    for (int i = 1; i < n; i++) {
        if (in[i] > in[best]) {
            best = i;
        }
    }
    return best;
}
