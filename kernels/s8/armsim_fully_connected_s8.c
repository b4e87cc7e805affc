/** @file armsim_fully_connected_s8.c  @brief int8 dense layer with TFLite's reference requantization. */
#include <math.h>

#include "armsim_nn_s8.h"

void armsim_fully_connected_s8(const int8_t *input, int32_t batches, int32_t n_in,
                               const int8_t *weights, const int32_t *bias, int32_t n_out,
                               int32_t input_offset, int32_t output_offset, const double *scales,
                               int32_t per_channel, int32_t act_min, int32_t act_max,
                               int8_t *output)
{
    for (int32_t b = 0; b < batches; b++) {
        const int8_t *x = input + b * n_in;
        for (int32_t c = 0; c < n_out; c++) {
            const int8_t *w = weights + c * n_in;
            int32_t acc = 0;
            for (int32_t d = 0; d < n_in; d++) {
                acc += (int32_t)w[d] * ((int32_t)x[d] + input_offset);
            }
            if (bias) {
                acc += bias[c];
            }
            int32_t y = (int32_t)round((double)acc * scales[per_channel ? c : 0]) + output_offset;
            y = y < act_min ? act_min : (y > act_max ? act_max : y);
            output[b * n_out + c] = (int8_t)y;
        }
    }
}
