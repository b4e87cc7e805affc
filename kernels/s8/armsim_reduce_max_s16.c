/** @file armsim_reduce_max_s16.c  @brief int16 maximum over one span of axes (16x8 REDUCE_MAX). */
#include "armsim_nn_s8.h"

void armsim_reduce_max_s16(const int16_t *input, int32_t outer, int32_t span, int32_t inner,
                           int16_t *output)
{
    ARMSIM_REDUCE_MAX_LOOP(int16_t, -32768)
}
