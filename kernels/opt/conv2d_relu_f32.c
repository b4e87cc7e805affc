/**
 * @file conv2d_relu_f32.c (optimized)
 * @brief Valid 2-D convolution, bias and ReLU; same signature and summation order as the
 *        reference kernel. For 5x5 kernels the 25 input taps of an output pixel are loaded
 *        once into registers and reused for every filter, with the tap loops unrolled.
 */
#include "armsim_kernels.h"

static void conv_generic(const float *image_t, int h, int w, const float *kernels, int k,
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
                for (int j = 0; j < k; j++) {
                    const float *col = image_t + (x + j) * h + y;
                    for (int i = 0; i < k; i++) {
                        acc += col[i] * ker[j * k + i];
                    }
                }
                acc += bias[o];
                dst[o] = acc > 0.0f ? acc : 0.0f;
            }
        }
    }
}

void armsim_conv2d_relu_f32(const float *image_t, int h, int w, const float *kernels, int k,
                            const float *bias, int filters, float *out)
{
    if (k != 5) {
        conv_generic(image_t, h, w, kernels, k, bias, filters, out);
        return;
    }
    const int oh = h - 4;
    const int ow = w - 4;
    for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
            const float *c0 = image_t + x * h + y;
            const float *c1 = c0 + h, *c2 = c1 + h, *c3 = c2 + h, *c4 = c3 + h;
            const float p0 = c0[0], p1 = c0[1], p2 = c0[2], p3 = c0[3], p4 = c0[4];
            const float p5 = c1[0], p6 = c1[1], p7 = c1[2], p8 = c1[3], p9 = c1[4];
            const float q0 = c2[0], q1 = c2[1], q2 = c2[2], q3 = c2[3], q4 = c2[4];
            const float q5 = c3[0], q6 = c3[1], q7 = c3[2], q8 = c3[3], q9 = c3[4];
            const float r0 = c4[0], r1 = c4[1], r2 = c4[2], r3 = c4[3], r4 = c4[4];
            float *dst = out + (y * ow + x) * filters;
            const float *kr = kernels;
            for (int o = 0; o < filters; o++, kr += 25) {
                float acc = 0.0f;
                acc += p0 * kr[0];  acc += p1 * kr[1];  acc += p2 * kr[2];
                acc += p3 * kr[3];  acc += p4 * kr[4];  acc += p5 * kr[5];
                acc += p6 * kr[6];  acc += p7 * kr[7];  acc += p8 * kr[8];
                acc += p9 * kr[9];  acc += q0 * kr[10]; acc += q1 * kr[11];
                acc += q2 * kr[12]; acc += q3 * kr[13]; acc += q4 * kr[14];
                acc += q5 * kr[15]; acc += q6 * kr[16]; acc += q7 * kr[17];
                acc += q8 * kr[18]; acc += q9 * kr[19]; acc += r0 * kr[20];
                acc += r1 * kr[21]; acc += r2 * kr[22]; acc += r3 * kr[23];
                acc += r4 * kr[24];
                acc += bias[o];
                dst[o] = acc > 0.0f ? acc : 0.0f;
            }
        }
    }
}
