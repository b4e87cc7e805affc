/** @file armsim_mean_s8.c  @brief int8 mean over one span of axes (TFLite's QuantizedMeanOrSum). */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_mean_s8(const int8_t *input, int32_t outer, int32_t span, int32_t inner,
                    int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                    int8_t *output)
{
    ARMSIM_MEAN_LOOP(int8_t, -128, 127)
}
