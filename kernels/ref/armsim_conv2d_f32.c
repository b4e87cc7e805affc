/** @file armsim_conv2d_f32.c  @brief Convolution op entry (reference: the generic kernel). */
#include "armsim_nn.h"

void armsim_conv2d_f32(const armsim_conv_params *params, const armsim_view *input,
                       const float *in, const armsim_view *filter, const float *w,
                       const float *bias, const armsim_dims *out_dims, float *out)
{
    armsim_conv2d_generic_f32(params, input, in, filter, w, bias, out_dims, out);
}
