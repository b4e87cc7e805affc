/** @file armsim_lut_s8.c  @brief int8 table look-up (TFLite's reference TANH/LOGISTIC). */
#include "armsim_nn_s8.h"

void armsim_lut_s8(const int8_t *input, int32_t size, const int8_t *table, int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        output[i] = table[(uint8_t)input[i]];
    }
}
