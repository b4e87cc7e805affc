/**
 * @file armsim_fully_connected_f32.c (optimized)
 * @brief Dense op entry: each input row against the weight rows four at a time, so four
 *        outputs share each input load.
 */
#include "armsim_nn_dot.h"
#include "armsim_nn_support.h"

void armsim_fully_connected_f32(const armsim_clamp *clamp, const float *in, int32_t rows,
                                int32_t n_in, const float *w, const float *bias, int32_t n_out,
                                float *out)
{
    const armsim_clamp c = *clamp;
    for (int32_t r = 0; r < rows; r++) {
        armsim_dot_rows(in + r * n_in, w, n_in, n_in, bias, n_out, &c, out + r * n_out);
    }
}
