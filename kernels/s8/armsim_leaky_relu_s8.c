/** @file armsim_leaky_relu_s8.c  @brief int8 leaky ReLU (TFLite's QuantizeLeakyRelu). */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_leaky_relu_s8(const int8_t *input, int32_t size, int32_t input_zp, int32_t output_zp,
                          int32_t ident_mult, int32_t ident_shift, int32_t alpha_mult,
                          int32_t alpha_shift, int8_t *output)
{
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = (int32_t)input[i] - input_zp;
        int32_t y = x >= 0 ? arm_nn_requantize(x, ident_mult, ident_shift)
                           : arm_nn_requantize(x, alpha_mult, alpha_shift);
        y += output_zp;
        output[i] = (int8_t)(y < -128 ? -128 : (y > 127 ? 127 : y));
    }
}
