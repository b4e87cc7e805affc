/** @file armsim_reduce_max_s8.c  @brief int8 maximum over one span of axes (TFLite REDUCE_MAX). */
#include "armsim_nn_s8.h"

void armsim_reduce_max_s8(const int8_t *input, int32_t outer, int32_t span, int32_t inner,
                          int8_t *output)
{
    ARMSIM_REDUCE_MAX_LOOP(int8_t, -128)
}
