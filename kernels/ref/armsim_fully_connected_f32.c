/** @file armsim_fully_connected_f32.c  @brief Dense op entry (reference: the generic kernel). */
#include "armsim_nn.h"

void armsim_fully_connected_f32(const armsim_clamp *clamp, const float *in, int32_t rows,
                                int32_t n_in, const float *w, const float *bias, int32_t n_out,
                                float *out)
{
    armsim_fully_connected_generic_f32(clamp, in, rows, n_in, w, bias, n_out, out);
}
