/**
 * @file fully_connected_f32.c (optimized)
 * @brief Dense layer, output-major weights; same signature as the reference. Two outputs
 *        share each input load, and the inner loop is unrolled by four. The summation
 *        order per output is the reference's (k ascending), so results are identical.
 */
#include "armsim_kernels.h"

void armsim_fully_connected_f32(const float *in, const float *weights, const float *bias,
                                int n_in, int n_out, float *out)
{
    int c = 0;
    for (; c + 1 < n_out; c += 2) {
        const float *r0 = weights + c * n_in;
        const float *r1 = r0 + n_in;
        float a0 = 0.0f, a1 = 0.0f;
        int k = 0;
        for (; k + 3 < n_in; k += 4) {
            const float x0 = in[k], x1 = in[k + 1], x2 = in[k + 2], x3 = in[k + 3];
            a0 += r0[k] * x0;  a1 += r1[k] * x0;
            a0 += r0[k + 1] * x1;  a1 += r1[k + 1] * x1;
            a0 += r0[k + 2] * x2;  a1 += r1[k + 2] * x2;
            a0 += r0[k + 3] * x3;  a1 += r1[k + 3] * x3;
        }
        for (; k < n_in; k++) {
            a0 += r0[k] * in[k];
            a1 += r1[k] * in[k];
        }
        out[c] = a0 + bias[c];
        out[c + 1] = a1 + bias[c + 1];
    }
    for (; c < n_out; c++) {
        const float *row = weights + c * n_in;
        float acc = 0.0f;
        for (int k = 0; k < n_in; k++) {
            acc += row[k] * in[k];
        }
        out[c] = acc + bias[c];
    }
}
