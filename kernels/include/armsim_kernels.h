/**
 * @file armsim_kernels.h
 * @brief Float32 inference kernels of the seed CNN (Conv2D 5x5 + ReLU, MaxPool 2x2,
 *        Dense, softmax, argmax). Shapes are given as [dims] in memory order.
 */
#ifndef ARMSIM_KERNELS_H
#define ARMSIM_KERNELS_H

#include <stdint.h>

/**
 * @brief Valid 2-D convolution of a one-channel image with F kernels, bias, then ReLU.
 * @param[in]  image_t  input image, transposed: [width][height], image_t[x*h + y] = pixel(y, x)
 * @param[in]  h        input height (rows)
 * @param[in]  w        input width (columns)
 * @param[in]  kernels  F kernels, [F][k][k] indexed [o][column j][row i]
 * @param[in]  k        kernel height and width
 * @param[in]  bias     [F]
 * @param[in]  filters  F
 * @param[out] out      [h-k+1][w-k+1][F] (height, width, channel)
 */
void armsim_conv2d_relu_f32(const float *image_t, int h, int w, const float *kernels, int k,
                            const float *bias, int filters, float *out);

/**
 * @brief Max pooling, window and stride p, "same" padding (edge windows are clipped).
 * @param[in]  in   [h][w][c]
 * @param[in]  h    input height
 * @param[in]  w    input width
 * @param[in]  c    channels
 * @param[in]  p    window and stride
 * @param[out] out  [ceil(h/p)][ceil(w/p)][c]
 */
void armsim_maxpool2d_f32(const float *in, int h, int w, int c, int p, float *out);

/**
 * @brief Fully connected layer: out[c] = bias[c] + sum_k weights[c*n_in + k] * in[k].
 * @param[in]  in       [n_in]
 * @param[in]  weights  [n_out][n_in] (output-major: the Keras kernel transposed)
 * @param[in]  bias     [n_out]
 * @param[in]  n_in     inputs K
 * @param[in]  n_out    outputs
 * @param[out] out      [n_out]
 */
void armsim_fully_connected_f32(const float *in, const float *weights, const float *bias,
                                int n_in, int n_out, float *out);

/**
 * @brief Softmax: out[i] = exp(in[i] - max) / sum_j exp(in[j] - max).
 * @param[in]  in   [n]
 * @param[in]  n    length
 * @param[out] out  [n] (may alias in)
 */
void armsim_softmax_f32(const float *in, int n, float *out);

/**
 * @brief Index of the largest element (the first one on ties).
 * @param[in] in  [n]
 * @param[in] n   length, at least 1
 * @return index in [0, n)
 */
int32_t armsim_argmax_f32(const float *in, int n);

#endif /* ARMSIM_KERNELS_H */
