/** @file armsim_prelu_s8.c  @brief int8 parametric ReLU (TFLite's reference integer PRELU):
 *  x >= 0 ? requantize(x, m1) : requantize(x * alpha, m2), alpha per channel or per element. */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_prelu_s8(const int8_t *input, int32_t size, int32_t c, const int8_t *alpha,
                     const armsim_prelu_s8_params *p, int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = (int32_t)input[i] - p->input_zp;
        int32_t y;
        if (x >= 0) {
            y = arm_nn_requantize(x, p->ident_mult, p->ident_shift);
        } else {
            const int32_t a = (int32_t)alpha[i % c] - p->alpha_zp;
            y = arm_nn_requantize(x * a, p->alpha_mult, p->alpha_shift);
        }
        y += p->output_zp;
        output[i] = (int8_t)(y < -128 ? -128 : (y > 127 ? 127 : y));
    }
}
