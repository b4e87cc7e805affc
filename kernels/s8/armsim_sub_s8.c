/** @file armsim_sub_s8.c  @brief int8 element-wise difference (TFLite's reference SUB). */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_sub_s8(const int8_t *a, const int8_t *b, int32_t size,
                   const armsim_sub_s8_params *p, int8_t *out)
{
    ARMSIM_SUB_LOOP(int8_t)
}
