/** @file armsim_requantize_s16.c  @brief int16 change of scale with a clamp (16x8 QUANTIZE). */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_requantize_s16(const int16_t *input, int32_t size, int32_t input_zp,
                           int32_t output_zp, int32_t mult, int32_t shift, int32_t act_min,
                           int32_t act_max, int16_t *output)
{
    ARMSIM_REQUANTIZE_LOOP(int16_t)
}
