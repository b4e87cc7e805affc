/** @file armsim_mean_f32.c  @brief Mean over consecutive axes (reference). */
#include "armsim_nn_support.h"

void armsim_mean_f32(const float *in, int32_t outer, int32_t span, int32_t inner, float *out)
{
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t k = 0; k < inner; k++) {
            const float *p = in + (o * span) * inner + k;
            float sum = 0.0f;
            for (int32_t s = 0; s < span; s++) {
                sum += p[s * inner];
            }
            out[o * inner + k] = sum / (float)span;
        }
    }
}
