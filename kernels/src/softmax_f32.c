/** @file softmax_f32.c  @brief Numerically stable softmax (reference). */
#include <math.h>
#include "armsim_kernels.h"

void armsim_softmax_f32(const float *in, int n, float *out)
{
    float m = in[0];
    for (int i = 1; i < n; i++) {
        if (in[i] > m) {
            m = in[i];
        }
    }
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        out[i] = expf(in[i] - m);
        sum += out[i];
    }
    const float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) {
        out[i] *= inv;
    }
}
