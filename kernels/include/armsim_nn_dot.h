/**
 * @file armsim_nn_dot.h
 * @brief Inline dot products for the optimized kernels: one input row against one, two or
 *        four weight rows, so each input load feeds several multiply-accumulates.
 */
#ifndef ARMSIM_NN_DOT_H
#define ARMSIM_NN_DOT_H

#include <stdint.h>

#include "armsim_nn_support.h"

/** acc[j] += sum_k x[k] * w[j][k] for four rows w0..w3 of length n. */
static inline void armsim_dot4(const float *x, const float *w0, const float *w1,
                               const float *w2, const float *w3, int32_t n, float *acc)
{
    float s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        const float x0 = x[k], x1 = x[k + 1], x2 = x[k + 2], x3 = x[k + 3];
        s0 += w0[k] * x0;
        s1 += w1[k] * x0;
        s2 += w2[k] * x0;
        s3 += w3[k] * x0;
        s0 += w0[k + 1] * x1;
        s1 += w1[k + 1] * x1;
        s2 += w2[k + 1] * x1;
        s3 += w3[k + 1] * x1;
        s0 += w0[k + 2] * x2;
        s1 += w1[k + 2] * x2;
        s2 += w2[k + 2] * x2;
        s3 += w3[k + 2] * x2;
        s0 += w0[k + 3] * x3;
        s1 += w1[k + 3] * x3;
        s2 += w2[k + 3] * x3;
        s3 += w3[k + 3] * x3;
    }
    for (; k < n; k++) {
        const float x0 = x[k];
        s0 += w0[k] * x0;
        s1 += w1[k] * x0;
        s2 += w2[k] * x0;
        s3 += w3[k] * x0;
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/** acc[p*4 + j] += sum_k x_p[k] * w[j][k]: two input rows against four weight rows. */
static inline void armsim_dot2x4(const float *x0, const float *x1, const float *w0,
                                 const float *w1, const float *w2, const float *w3, int32_t n,
                                 float *acc)
{
    float a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    float b0 = acc[4], b1 = acc[5], b2 = acc[6], b3 = acc[7];
    for (int32_t k = 0; k < n; k++) {
        const float u = x0[k], v = x1[k];
        const float c0 = w0[k], c1 = w1[k], c2 = w2[k], c3 = w3[k];
        a0 += c0 * u;
        b0 += c0 * v;
        a1 += c1 * u;
        b1 += c1 * v;
        a2 += c2 * u;
        b2 += c2 * v;
        a3 += c3 * u;
        b3 += c3 * v;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = b0;
    acc[5] = b1;
    acc[6] = b2;
    acc[7] = b3;
}

/** *acc += sum_k x[k] * w[k], unrolled by four. */
static inline float armsim_dot1(const float *x, const float *w, int32_t n, float acc)
{
    int32_t k = 0;
    for (; k + 4 <= n; k += 4) {
        acc += w[k] * x[k];
        acc += w[k + 1] * x[k + 1];
        acc += w[k + 2] * x[k + 2];
        acc += w[k + 3] * x[k + 3];
    }
    for (; k < n; k++) {
        acc += w[k] * x[k];
    }
    return acc;
}

/**
 * dst[o] = clamp(sum_k x[k] * w[o * stride + k] + bias[o]) for o < n_out: one input row
 * against n_out filter rows, four at a time (bias may be NULL).
 */
static inline void armsim_dot_rows(const float *x, const float *w, int32_t stride, int32_t n,
                                   const float *bias, int32_t n_out, const armsim_clamp *clamp,
                                   float *dst)
{
    int32_t o = 0;
    for (; o + 4 <= n_out; o += 4) {
        float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        const float *w0 = w + o * stride;
        armsim_dot4(x, w0, w0 + stride, w0 + 2 * stride, w0 + 3 * stride, n, acc);
        for (int32_t j = 0; j < 4; j++) {
            dst[o + j] = armsim_clampf(bias ? acc[j] + bias[o + j] : acc[j], clamp);
        }
    }
    for (; o < n_out; o++) {
        const float acc = armsim_dot1(x, w + o * stride, n, 0.0f);
        dst[o] = armsim_clampf(bias ? acc + bias[o] : acc, clamp);
    }
}

#endif /* ARMSIM_NN_DOT_H */
