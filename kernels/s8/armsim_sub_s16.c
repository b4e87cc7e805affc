/** @file armsim_sub_s16.c  @brief int16 element-wise difference (16x8 SUB, TFLM's reference). */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_sub_s16(const int16_t *a, const int16_t *b, int32_t size,
                    const armsim_sub_s8_params *p, int16_t *out)
{
    ARMSIM_SUB_LOOP(int16_t)
}
