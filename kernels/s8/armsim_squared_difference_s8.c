/** @file armsim_squared_difference_s8.c
 *  @brief int8 element-wise squared difference (TFLite's reference SQUARED_DIFFERENCE). */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_squared_difference_s8(const int8_t *a, const int8_t *b, int32_t size,
                                  const armsim_sub_s8_params *p, int8_t *out)
{
    for (int32_t i = 0; i < size; i++) {
        const int32_t d = ARMSIM_RESCALED_DIFFERENCE(a[i], b[i], p, arm_nn_requantize);
        int32_t r = arm_nn_requantize(d * d, p->output_mult, p->output_shift) +
                    p->output_offset;
        r = r < p->act_min ? p->act_min : r > p->act_max ? p->act_max : r;
        out[i] = (int8_t)r;
    }
}
