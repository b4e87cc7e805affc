/** @file armsim_concat_f32.c  @brief One input of a concatenation into its output place. */
#include "armsim_nn.h"

void armsim_concat_f32(const float *in, int32_t outer, int32_t chunk, int32_t out_stride,
                       float *out)
{
    for (int32_t i = 0; i < outer; i++) {
        for (int32_t k = 0; k < chunk; k++) {
            out[i * out_stride + k] = in[i * chunk + k];
        }
    }
}
