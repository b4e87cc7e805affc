/**
 * @file armsim_nn.h
 * @brief armsim's float32 neural-network kernels: one op per file, CMSIS-NN style.
 *
 * Tensor formats: activations are NHWC (batch 1, C fastest); conv filters are OHWI;
 * depthwise filters are [kh][kw][C*M] (output channel c*M + m reads input channel c);
 * dense weights are [out][in]. A kernel that reads a tensor the model's memory plan may
 * store in another element order (the seed layout's transposed input and kernels) takes an
 * ::armsim_view: the dims and the element stride of each axis. Outputs are always
 * contiguous NHWC. Fused activations that are a clamp (linear, ReLU, ReLU6) are applied by
 * the kernel through ::armsim_clamp; the others are separate element-wise kernels that
 * may run in place.
 *
 * Two kernel sets implement this header: kernels/ref (plain loops, the reference) and
 * kernels/opt, whose files replace those of kernels/ref with the same name; an optimized
 * op wrapper lets specialised kernels claim the shapes they handle and falls back to the
 * generic reference kernel (armsim_*_generic_f32) for the rest.
 */
#ifndef ARMSIM_NN_H
#define ARMSIM_NN_H

#include <stdint.h>

/** Tensor dimensions (n: batch, or output channels of a filter). */
typedef struct {
    int32_t n, h, w, c;
} armsim_dims;

/** A tensor view: dimensions and the element stride of each axis in memory. */
typedef struct {
    armsim_dims dims;
    armsim_dims stride;
} armsim_view;

/** A height/width pair. */
typedef struct {
    int32_t h, w;
} armsim_tile;

/** Activation clamp: every output is limited to [min, max] (infinities for none). */
typedef struct {
    float min, max;
} armsim_clamp;

/** Convolution parameters: padding is the zero rows above and columns left of the input. */
typedef struct {
    armsim_tile stride, padding, dilation;
    armsim_clamp clamp;
} armsim_conv_params;

/** Depthwise convolution parameters; multiplier M output channels per input channel. */
typedef struct {
    armsim_tile stride, padding, dilation;
    int32_t multiplier;
    armsim_clamp clamp;
} armsim_dw_conv_params;

/** Pooling parameters; padded cells are ignored (average pooling divides by valid cells). */
typedef struct {
    armsim_tile window, stride, padding;
    armsim_clamp clamp;
} armsim_pool_params;

/**
 * @brief 2-D convolution (op entry: the optimized set picks a specialised kernel).
 * @param[in]  params   strides, padding, dilation, clamp
 * @param[in]  input    input dims {1, H, W, C_in} and strides (NHWC: {_, W*C, C, 1})
 * @param[in]  in       input data
 * @param[in]  filter   filter dims {C_out, KH, KW, C_in} and strides (OHWI: {KH*KW*C, KW*C, C, 1})
 * @param[in]  w        filter data
 * @param[in]  bias     [C_out], or NULL
 * @param[in]  out_dims {1, OH, OW, C_out}
 * @param[out] out      [OH][OW][C_out]
 */
void armsim_conv2d_f32(const armsim_conv_params *params, const armsim_view *input,
                       const float *in, const armsim_view *filter, const float *w,
                       const float *bias, const armsim_dims *out_dims, float *out);

/** @brief The generic convolution (any strides); same parameters as ::armsim_conv2d_f32. */
void armsim_conv2d_generic_f32(const armsim_conv_params *params, const armsim_view *input,
                               const float *in, const armsim_view *filter, const float *w,
                               const float *bias, const armsim_dims *out_dims, float *out);

/**
 * @brief Depthwise 2-D convolution.
 * @param[in]  params   strides, padding, dilation, multiplier M, clamp
 * @param[in]  in_dims  {1, H, W, C}
 * @param[in]  in       [H][W][C]
 * @param[in]  f_dims   {1, KH, KW, C*M}
 * @param[in]  w        [KH][KW][C*M]
 * @param[in]  bias     [C*M], or NULL
 * @param[in]  out_dims {1, OH, OW, C*M}
 * @param[out] out      [OH][OW][C*M]
 */
void armsim_depthwise_conv2d_f32(const armsim_dw_conv_params *params, const armsim_dims *in_dims,
                                 const float *in, const armsim_dims *f_dims, const float *w,
                                 const float *bias, const armsim_dims *out_dims, float *out);

/** @brief The generic depthwise convolution; same parameters. */
void armsim_depthwise_conv2d_generic_f32(const armsim_dw_conv_params *params,
                                         const armsim_dims *in_dims, const float *in,
                                         const armsim_dims *f_dims, const float *w,
                                         const float *bias, const armsim_dims *out_dims,
                                         float *out);

/**
 * @brief Fully connected layer over the last axis: out[r][o] = bias[o] + sum_k w[o][k] in[r][k].
 * @param[in]  clamp  activation clamp
 * @param[in]  in     [rows][n_in]
 * @param[in]  rows   rows (1 for a 1-D input)
 * @param[in]  n_in   inputs per row
 * @param[in]  w      [n_out][n_in]
 * @param[in]  bias   [n_out], or NULL
 * @param[in]  n_out  outputs per row
 * @param[out] out    [rows][n_out]
 */
void armsim_fully_connected_f32(const armsim_clamp *clamp, const float *in, int32_t rows,
                                int32_t n_in, const float *w, const float *bias, int32_t n_out,
                                float *out);

/** @brief The generic fully connected layer; same parameters. */
void armsim_fully_connected_generic_f32(const armsim_clamp *clamp, const float *in,
                                        int32_t rows, int32_t n_in, const float *w,
                                        const float *bias, int32_t n_out, float *out);

/**
 * @brief Max pooling over a window (global pooling: the window is the whole input).
 * @param[in]  params   window, stride, padding, clamp
 * @param[in]  in_dims  {1, H, W, C}
 * @param[in]  in       [H][W][C]
 * @param[in]  out_dims {1, OH, OW, C}
 * @param[out] out      [OH][OW][C]
 */
void armsim_max_pool2d_f32(const armsim_pool_params *params, const armsim_dims *in_dims,
                           const float *in, const armsim_dims *out_dims, float *out);

/** @brief The generic max pooling; same parameters as ::armsim_max_pool2d_f32. */
void armsim_max_pool2d_generic_f32(const armsim_pool_params *params, const armsim_dims *in_dims,
                                   const float *in, const armsim_dims *out_dims, float *out);

/** @brief Average pooling; same parameters as ::armsim_max_pool2d_f32. */
void armsim_avg_pool2d_f32(const armsim_pool_params *params, const armsim_dims *in_dims,
                           const float *in, const armsim_dims *out_dims, float *out);

/**
 * @brief Element-wise sum, out[i] = clamp(a[i] + b[i]); out may alias a or b.
 * @param[in]  clamp  activation clamp
 * @param[in]  a      [n]
 * @param[in]  b      [n]
 * @param[in]  n      elements
 * @param[out] out    [n]
 */
void armsim_add_f32(const armsim_clamp *clamp, const float *a, const float *b, int32_t n,
                    float *out);

/**
 * @brief Transposed 2-D convolution as a gather: out[oy][ox][o] = clamp(bias[o] + sum of
 *        in[iy][ix][c] * kernel[ky][kx][o][c] over oy + top = iy * sy + ky, likewise x).
 * @param[in]  kernel  [kh][kw][cout][cin] (Keras' order)
 * @param[in]  bias    [cout], or NULL
 */
void armsim_conv2d_transpose_f32(const armsim_clamp *clamp, const armsim_dims *in_dims,
                                 const float *in, int32_t kh, int32_t kw, int32_t sy,
                                 int32_t sx, int32_t top, int32_t left, const float *kernel,
                                 const float *bias, const armsim_dims *out_dims, float *out);

/**
 * @brief Bilinear resize as TFLite's reference kernel computes it (float): each output pixel
 * from input rows y0, y1 (y01[2y], y01[2y + 1]) and columns x0, x1 weighted by the fractions
 * dy[y], dx[x] the host computed (half-pixel centres, align_corners).
 * @param[in]  in   [H][in_w][channels]
 * @param[out] out  [out_h][out_w][channels]
 */
void armsim_resize_bilinear_f32(const float *in, int32_t in_w, int32_t channels,
                                int32_t out_h, int32_t out_w, const int32_t *y01,
                                const float *dy, const int32_t *x01, const float *dx,
                                float *out);

/** @brief Parametric ReLU: out[i] = in[i] >= 0 ? in[i] : alpha[i % c] * in[i]. */
void armsim_prelu_f32(const float *in, int32_t n, int32_t c, const float *alpha, float *out);

/**
 * @brief Nearest-neighbour upsampling by whole factors: out[y][x] = in[y / sy][x / sx].
 * @param[in]  in_dims  {1, H, W, C}
 * @param[in]  in       [H][W][C]
 * @param[out] out      [H * sy][W * sx][C]
 */
void armsim_upsample_nearest_f32(const armsim_dims *in_dims, const float *in, int32_t sy,
                                 int32_t sx, float *out);

/** @brief Element-wise difference, maximum and minimum, out[i] = clamp(a[i] op b[i]);
 *  out may alias a or b. */
void armsim_sub_f32(const armsim_clamp *clamp, const float *a, const float *b, int32_t n,
                    float *out);
void armsim_maximum_f32(const armsim_clamp *clamp, const float *a, const float *b, int32_t n,
                        float *out);
void armsim_minimum_f32(const armsim_clamp *clamp, const float *a, const float *b, int32_t n,
                        float *out);

/**
 * @brief Matrix products over up to two batch axes ({n, h}, each broadcast where one side
 *        has 1), the right operand transposed: out[b][m][n] = sum_k lhs[b][m][k] * rhs[b][n][k].
 * @param[in]  lhs_dims {n, h, M, K}
 * @param[in]  rhs_dims {n, h, N, K}
 * @param[in]  out_dims {n, h, M, N}
 */
void armsim_batch_matmul_f32(const armsim_dims *lhs_dims, const float *lhs,
                             const armsim_dims *rhs_dims, const float *rhs,
                             const armsim_dims *out_dims, float *out);

/** @brief out[i] = (l[i] cmp r[i]) ? a[i] : b[i]; cmp 0 >, 1 >=, 2 <, 3 <=, 4 ==, 5 !=
 *  (TFLite SELECT_V2 with its comparison folded in); out may alias any input. */
void armsim_select_f32(int32_t cmp, const float *l, const float *r, const float *a,
                       const float *b, int32_t n, float *out);

/** @brief Element-wise quotient and squared difference, out[i] = clamp(a[i] / b[i]) and
 *  clamp((a[i] - b[i])^2); out may alias a or b. */
void armsim_divide_f32(const armsim_clamp *clamp, const float *a, const float *b, int32_t n,
                       float *out);
void armsim_squared_difference_f32(const armsim_clamp *clamp, const float *a, const float *b,
                                   int32_t n, float *out);

/** @brief Division by a constant, out[i] = clamp(in[i] / d); out may alias in. */
void armsim_div_f32(const armsim_clamp *clamp, const float *in, int32_t n, float d, float *out);

/** @brief Element-wise product, out[i] = clamp(a[i] * b[i]); out may alias a or b. */
void armsim_mul_f32(const armsim_clamp *clamp, const float *a, const float *b, int32_t n,
                    float *out);

/**
 * @brief Mean over consecutive axes: out[o][k] = sum over s of in[o][s][k], divided by span
 *        (summed in float in index order, as TFLite's reference MEAN does).
 * @param[in]  in     [outer][span][inner]
 * @param[out] out    [outer][inner]
 */
void armsim_mean_f32(const float *in, int32_t outer, int32_t span, int32_t inner, float *out);

/** @brief Maximum over consecutive axes; same layout as ::armsim_mean_f32. */
void armsim_reduce_max_f32(const float *in, int32_t outer, int32_t span, int32_t inner,
                           float *out);

/**
 * @brief Copy one input of a concatenation into its place in the output.
 * @param[in]  in          [outer][chunk]
 * @param[in]  outer       number of chunks (product of the axes before the concat axis)
 * @param[in]  chunk       elements per chunk (this input's size from the concat axis on)
 * @param[in]  out_stride  elements between chunks in the output
 * @param[out] out         first element of this input's place in the output
 */
void armsim_concat_f32(const float *in, int32_t outer, int32_t chunk, int32_t out_stride,
                       float *out);

/**
 * @brief Zero padding of an NHWC tensor.
 * @param[in]  in_dims  {1, H, W, C}
 * @param[in]  in       [H][W][C]
 * @param[in]  top      zero rows above
 * @param[in]  left     zero columns on the left
 * @param[in]  out_dims {1, OH, OW, C} (the rest is padding below and on the right)
 * @param[out] out      [OH][OW][C]
 */
void armsim_pad_f32(const armsim_dims *in_dims, const float *in, int32_t top, int32_t left,
                    const armsim_dims *out_dims, float *out);

/**
 * @brief Per-channel affine map, out[i][c] = clamp(in[i][c] * scale[c] + shift[c]).
 * @param[in]  clamp  activation clamp
 * @param[in]  in     [n / c][c]
 * @param[in]  n      elements
 * @param[in]  c      channels (the last axis)
 * @param[in]  scale  [c]
 * @param[in]  shift  [c]
 * @param[out] out    [n / c][c] (may alias in)
 */
void armsim_scale_shift_f32(const armsim_clamp *clamp, const float *in, int32_t n, int32_t c,
                            const float *scale, const float *shift, float *out);

/** @brief out[i] = min(max(in[i], clamp->min), clamp->max); out may alias in. */
void armsim_clamp_f32(const armsim_clamp *clamp, const float *in, int32_t n, float *out);

/** @brief out[i] = in[i] >= 0 ? in[i] : alpha * in[i]; out may alias in. */
void armsim_leaky_relu_f32(const float *in, int32_t n, float alpha, float *out);

/** @brief out[i] = 1 / (1 + exp(-in[i])); out may alias in. */
void armsim_sigmoid_f32(const float *in, int32_t n, float *out);

/** @brief out[i] = tanh(in[i]); out may alias in. */
void armsim_tanh_f32(const float *in, int32_t n, float *out);

/** @brief out[i] = clamp(in[i] / 6 + 0.5, 0, 1) (Keras 3 hard_sigmoid); out may alias in. */
void armsim_hard_sigmoid_f32(const float *in, int32_t n, float *out);

/** @brief The other element-wise activations, out[i] = f(in[i]); out may alias in:
 *  SiLU (swish), hard SiLU (hard swish), GELU (exact, and its tanh form), ELU, SELU,
 *  softplus, softsign, exponential, Mish (Keras 3's definitions). */
void armsim_silu_f32(const float *in, int32_t n, float *out);
void armsim_hard_silu_f32(const float *in, int32_t n, float *out);
void armsim_gelu_f32(const float *in, int32_t n, float *out);
void armsim_gelu_tanh_f32(const float *in, int32_t n, float *out);
void armsim_elu_f32(const float *in, int32_t n, float *out);
void armsim_selu_f32(const float *in, int32_t n, float *out);
void armsim_softplus_f32(const float *in, int32_t n, float *out);
void armsim_softsign_f32(const float *in, int32_t n, float *out);
void armsim_exponential_f32(const float *in, int32_t n, float *out);
void armsim_mish_f32(const float *in, int32_t n, float *out);

/** @brief Element-wise math of TFLite's unary operators, out[i] = f(in[i]); out may alias in:
 *  LOG (logf), ABS, NEG, SQRT, RSQRT (1 / sqrtf), SQUARE. */
void armsim_log_f32(const float *in, int32_t n, float *out);
void armsim_abs_f32(const float *in, int32_t n, float *out);
void armsim_neg_f32(const float *in, int32_t n, float *out);
void armsim_sqrt_f32(const float *in, int32_t n, float *out);
void armsim_rsqrt_f32(const float *in, int32_t n, float *out);
void armsim_square_f32(const float *in, int32_t n, float *out);

/**
 * @brief Softmax over the last axis: exp(x - max) / sum exp(x - max), row by row.
 * @param[in]  in    [rows][n]
 * @param[in]  rows  rows
 * @param[in]  n     length of a row
 * @param[out] out   [rows][n] (may alias in)
 */
void armsim_softmax_f32(const float *in, int32_t rows, int32_t n, float *out);

/** @brief Log-softmax over the last axis, row by row: x - max - log(sum exp(x - max));
 *  same layout as ::armsim_softmax_f32. */
void armsim_log_softmax_f32(const float *in, int32_t rows, int32_t n, float *out);

/** @brief Index of the largest element (the first one on ties); n >= 1. */
int32_t armsim_argmax_f32(const float *in, int32_t n);

#endif /* ARMSIM_NN_H */
