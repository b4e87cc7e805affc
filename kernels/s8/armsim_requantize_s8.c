/** @file armsim_requantize_s8.c  @brief int8 change of scale with a clamp. */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_requantize_s8(const int8_t *input, int32_t size, int32_t input_zp, int32_t output_zp,
                          int32_t mult, int32_t shift, int32_t act_min, int32_t act_max,
                          int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        int32_t y = output_zp + arm_nn_requantize((int32_t)input[i] - input_zp, mult, shift);
        y = y < act_min ? act_min : (y > act_max ? act_max : y);
        output[i] = (int8_t)y;
    }
}
