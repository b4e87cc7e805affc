/**
 * @file armsim_depthwise_conv2d_f32.c (optimized)
 * @brief Depthwise op entry: multiplier 1 without dilation takes the channel-vectorised
 *        kernel; the rest falls back to the generic reference kernel.
 */
#include "armsim_nn.h"
#include "armsim_nn_opt.h"

void armsim_depthwise_conv2d_f32(const armsim_dw_conv_params *params, const armsim_dims *in_dims,
                                 const float *in, const armsim_dims *f_dims, const float *w,
                                 const float *bias, const armsim_dims *out_dims, float *out)
{
    if (params->multiplier == 1 && params->dilation.h == 1 && params->dilation.w == 1) {
        armsim_depthwise_conv2d_m1_f32(params, in_dims, in, f_dims, w, bias, out_dims, out);
        return;
    }
    armsim_depthwise_conv2d_generic_f32(params, in_dims, in, f_dims, w, bias, out_dims, out);
}
