/** @file armsim_hard_sigmoid_f32.c  @brief Keras 3 hard_sigmoid: relu6(x + 3) / 6. */
#include "armsim_nn.h"

void armsim_hard_sigmoid_f32(const float *in, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        float y = in[i] / 6.0f + 0.5f;
        y = y < 0.0f ? 0.0f : y;
        out[i] = y > 1.0f ? 1.0f : y;
    }
}
