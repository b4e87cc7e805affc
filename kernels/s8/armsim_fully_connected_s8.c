/** @file armsim_fully_connected_s8.c  @brief int8 dense layer with TFLite's reference requantization. */
#include <math.h>

#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

/* sum_d w[d] * (x[d] + input_offset) over n values; with the DSP extension four at a time
 * (two SMLADs of sign-extended byte pairs; both operands split the same way) */
static int32_t dot(const int8_t *x, const int8_t *w, int32_t n, int32_t input_offset)
{
    int32_t acc = 0;
    int32_t d = 0;
#if defined(ARM_MATH_DSP)
    const uint32_t off = PKHBT(input_offset, input_offset, 16);
    for (; d + 4 <= n; d += 4) {
        const int32_t xv = arm_nn_read_s8x4(x + d);
        const int32_t wv = arm_nn_read_s8x4(w + d);
        acc = SMLAD(SXTB16(wv), SXTAB16(off, xv), acc);
        acc = SMLAD(SXTB16_RORn((uint32_t)wv, 8), SXTAB16_RORn(off, (uint32_t)xv, 8), acc);
    }
#else
    for (; d + 4 <= n; d += 4) {
        acc += (int32_t)w[d] * ((int32_t)x[d] + input_offset)
             + (int32_t)w[d + 1] * ((int32_t)x[d + 1] + input_offset)
             + (int32_t)w[d + 2] * ((int32_t)x[d + 2] + input_offset)
             + (int32_t)w[d + 3] * ((int32_t)x[d + 3] + input_offset);
    }
#endif
    for (; d < n; d++) {
        acc += (int32_t)w[d] * ((int32_t)x[d] + input_offset);
    }
    return acc;
}

void armsim_fully_connected_s8(const int8_t *input, int32_t batches, int32_t n_in,
                               const int8_t *weights, const int32_t *bias, int32_t n_out,
                               int32_t input_offset, int32_t output_offset, const double *scales,
                               int32_t per_channel, int32_t act_min, int32_t act_max,
                               int8_t *output)
{
    for (int32_t b = 0; b < batches; b++) {
        const int8_t *x = input + b * n_in;
        for (int32_t c = 0; c < n_out; c++) {
            int32_t acc = dot(x, weights + c * n_in, n_in, input_offset);
            if (bias) {
                acc += bias[c];
            }
            int32_t y = (int32_t)round((double)acc * scales[per_channel ? c : 0]) + output_offset;
            y = y < act_min ? act_min : (y > act_max ? act_max : y);
            output[b * n_out + c] = (int8_t)y;
        }
    }
}
