/** @file armsim_argmax_f32.c  @brief Index of the maximum. */
#include "armsim_nn.h"

int32_t armsim_argmax_f32(const float *in, int32_t n)
{
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++) {
        if (in[i] > in[best]) {
            best = i;
        }
    }
    return best;
}
