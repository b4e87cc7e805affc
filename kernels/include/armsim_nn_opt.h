/**
 * @file armsim_nn_opt.h
 * @brief The specialised kernels of the optimized set (kernels/opt), which the op entries
 *        call for the shapes they handle. Parameters as in armsim_nn.h.
 */
#ifndef ARMSIM_NN_OPT_H
#define ARMSIM_NN_OPT_H

#include "armsim_nn.h"

/** 1x1 convolution, stride 1, no padding, natural layouts: a matrix product per pixel. */
void armsim_conv2d_1x1_f32(const armsim_conv_params *params, const armsim_view *input,
                           const float *in, const armsim_view *filter, const float *w,
                           const float *bias, const armsim_dims *out_dims, float *out);

/** Any kernel size, stride and padding, natural NHWC input and OHWI filter, no dilation. */
void armsim_conv2d_nhwc_f32(const armsim_conv_params *params, const armsim_view *input,
                            const float *in, const armsim_view *filter, const float *w,
                            const float *bias, const armsim_dims *out_dims, float *out);

/**
 * One input channel, any input strides, each filter's taps contiguous (in either order),
 * no dilation, at most 64 taps (the seed layout's transposed image; most first layers).
 * @return 1 when it handled the call, 0 when the shape is not one it claims
 */
int armsim_conv2d_1ch_f32(const armsim_conv_params *params, const armsim_view *input,
                          const float *in, const armsim_view *filter, const float *w,
                          const float *bias, const armsim_dims *out_dims, float *out);

/** Depthwise convolution with multiplier 1 and no dilation, four channels at a time. */
void armsim_depthwise_conv2d_m1_f32(const armsim_dw_conv_params *params,
                                    const armsim_dims *in_dims, const float *in,
                                    const armsim_dims *f_dims, const float *w,
                                    const float *bias, const armsim_dims *out_dims, float *out);

#endif /* ARMSIM_NN_OPT_H */
