/** @file armsim_log_softmax_f32.c  @brief Log-softmax over each row: x - max - log(sum exp(x - max)),
 *  TFLite's reference order of operations. */
#include <math.h>
#include "armsim_nn.h"

void armsim_log_softmax_f32(const float *in, int32_t rows, int32_t n, float *out)
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
            sum += expf(x[i] - m);
        }
        const float log_sum = logf(sum);
        for (int32_t i = 0; i < n; i++) {
            y[i] = x[i] - m - log_sum;
        }
    }
}
