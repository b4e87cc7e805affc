/** @file armsim_reduce_max_s8.c  @brief int8 maximum over one span of axes (TFLite REDUCE_MAX). */
#include "armsim_nn_s8.h"

void armsim_reduce_max_s8(const int8_t *input, int32_t outer, int32_t span, int32_t inner,
                          int8_t *output)
{
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t k = 0; k < inner; k++) {
            const int8_t *p = input + (o * span) * inner + k;
            int8_t best = -128;
            for (int32_t s = 0; s < span; s++) {
                best = p[s * inner] > best ? p[s * inner] : best;
            }
            output[o * inner + k] = best;
        }
    }
}
