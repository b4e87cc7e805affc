/** @file armsim_depthwise_conv2d_f32.c  @brief Depthwise op entry (reference: generic). */
#include "armsim_nn.h"

void armsim_depthwise_conv2d_f32(const armsim_dw_conv_params *params, const armsim_dims *in_dims,
                                 const float *in, const armsim_dims *f_dims, const float *w,
                                 const float *bias, const armsim_dims *out_dims, float *out)
{
    armsim_depthwise_conv2d_generic_f32(params, in_dims, in, f_dims, w, bias, out_dims, out);
}
