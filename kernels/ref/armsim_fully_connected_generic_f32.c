/** @file armsim_fully_connected_generic_f32.c  @brief Dense layer, [out][in] weights (reference). */
#include "armsim_nn_support.h"

void armsim_fully_connected_generic_f32(const armsim_clamp *clamp, const float *in,
                                        int32_t rows, int32_t n_in, const float *w,
                                        const float *bias, int32_t n_out, float *out)
{
    for (int32_t r = 0; r < rows; r++) {
        const float *x = in + r * n_in;
        for (int32_t o = 0; o < n_out; o++) {
            const float *row = w + o * n_in;
            float acc = 0.0f;
            for (int32_t k = 0; k < n_in; k++) {
                acc += row[k] * x[k];
            }
            if (bias != 0) {
                acc += bias[o];
            }
            out[r * n_out + o] = armsim_clampf(acc, clamp);
        }
    }
}
