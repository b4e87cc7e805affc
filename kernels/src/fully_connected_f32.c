/** @file fully_connected_f32.c  @brief Dense layer, output-major weights (reference). */
#include "armsim_kernels.h"

void armsim_fully_connected_f32(const float *in, const float *weights, const float *bias,
                                int n_in, int n_out, float *out)
{
    for (int c = 0; c < n_out; c++) {
        const float *row = weights + c * n_in;
        float acc = 0.0f;
        for (int k = 0; k < n_in; k++) {
            acc += row[k] * in[k];
        }
        out[c] = acc + bias[c];
    }
}
