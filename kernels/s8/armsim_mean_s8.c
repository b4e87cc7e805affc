/** @file armsim_mean_s8.c  @brief int8 mean over one span of axes (TFLite's QuantizedMeanOrSum). */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_mean_s8(const int8_t *input, int32_t outer, int32_t span, int32_t inner,
                    int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                    int8_t *output)
{
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t k = 0; k < inner; k++) {
            const int8_t *p = input + (o * span) * inner + k;
            int32_t sum = 0;
            for (int32_t s = 0; s < span; s++) {
                sum += p[s * inner];
            }
            int32_t y = output_zp + arm_nn_requantize(sum - input_zp * span, mult, shift);
            y = y < -128 ? -128 : (y > 127 ? 127 : y);
            output[o * inner + k] = (int8_t)y;
        }
    }
}
