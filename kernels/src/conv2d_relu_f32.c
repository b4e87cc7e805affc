/** @file conv2d_relu_f32.c  @brief Valid 2-D convolution, bias and ReLU (reference). */
#include "armsim_kernels.h"

void armsim_conv2d_relu_f32(const float *image_t, int h, int w, const float *kernels, int k,
                            const float *bias, int filters, float *out)
{
    const int oh = h - k + 1;
    const int ow = w - k + 1;
    for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
            float *dst = out + (y * ow + x) * filters;
            for (int o = 0; o < filters; o++) {
                const float *ker = kernels + o * k * k;
                float acc = 0.0f;
                for (int j = 0; j < k; j++) {          /* kernel column */
                    const float *col = image_t + (x + j) * h + y;
                    for (int i = 0; i < k; i++) {      /* kernel row */
                        acc += col[i] * ker[j * k + i];
                    }
                }
                acc += bias[o];
                dst[o] = acc > 0.0f ? acc : 0.0f;
            }
        }
    }
}
