/** @file armsim_reduce_max_f32.c  @brief Maximum over consecutive axes (reference). */
#include "armsim_nn_support.h"

void armsim_reduce_max_f32(const float *in, int32_t outer, int32_t span, int32_t inner,
                           float *out)
{
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t k = 0; k < inner; k++) {
            const float *p = in + (o * span) * inner + k;
            float best = p[0];
            for (int32_t s = 1; s < span; s++) {
                best = p[s * inner] > best ? p[s * inner] : best;
            }
            out[o * inner + k] = best;
        }
    }
}
