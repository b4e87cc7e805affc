/** @file armsim_softmax_f32.c  @brief Numerically stable softmax over each row. */
#include <math.h>
#include "armsim_nn.h"

void armsim_softmax_f32(const float *in, int32_t rows, int32_t n, float *out)
{
    for (int32_t r = 0; r < rows; r++) {
        const float *x = in + r * n;
        float *y = out + r * n;
        float m = x[0];
        for (int32_t i = 1; i < n; i++) {
            if (x[i] > m) {
                m = x[i];
            }
        }
        float sum = 0.0f;
        for (int32_t i = 0; i < n; i++) {
            y[i] = expf(x[i] - m);
            sum += y[i];
        }
        const float inv = 1.0f / sum;
        for (int32_t i = 0; i < n; i++) {
            y[i] *= inv;
        }
    }
}
