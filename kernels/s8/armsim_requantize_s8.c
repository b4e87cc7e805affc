/** @file armsim_requantize_s8.c  @brief int8 change of scale with a clamp. */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_requantize_s8(const int8_t *input, int32_t size, int32_t input_zp, int32_t output_zp,
                          int32_t mult, int32_t shift, int32_t act_min, int32_t act_max,
                          int8_t *output)
{
    ARMSIM_REQUANTIZE_LOOP(int8_t)
}
