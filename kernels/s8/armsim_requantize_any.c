/** @file armsim_requantize_any.c  @brief QUANTIZE between integer types (int8, int16, int32). */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

static int32_t load(const void *p, int32_t bytes, int32_t i)
{
    return bytes == 1 ? ((const int8_t *)p)[i]
                      : bytes == 2 ? ((const int16_t *)p)[i] : ((const int32_t *)p)[i];
}

void armsim_requantize_any(const void *input, int32_t in_bytes, int32_t size, int32_t input_zp,
                           int32_t output_zp, int32_t mult, int32_t shift, int32_t act_min,
                           int32_t act_max, void *output, int32_t out_bytes)
{
    for (int32_t i = 0; i < size; i++) {
        int32_t y = output_zp + arm_nn_requantize(load(input, in_bytes, i) - input_zp, mult, shift);
        y = y < act_min ? act_min : (y > act_max ? act_max : y);
        if (out_bytes == 1) {
            ((int8_t *)output)[i] = (int8_t)y;
        } else if (out_bytes == 2) {
            ((int16_t *)output)[i] = (int16_t)y;
        } else {
            ((int32_t *)output)[i] = y;
        }
    }
}
