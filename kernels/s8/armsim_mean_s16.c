/** @file armsim_mean_s16.c  @brief int16 mean over one span of axes (16x8 MEAN, TFLM's
 *  QuantizedMeanOrSum<int16_t>). */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_mean_s16(const int16_t *input, int32_t outer, int32_t span, int32_t inner,
                     int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                     int16_t *output)
{
    ARMSIM_MEAN_LOOP(int16_t, -32768, 32767)
}
