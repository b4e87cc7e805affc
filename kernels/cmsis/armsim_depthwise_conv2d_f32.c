/** @file armsim_depthwise_conv2d_f32.c  @brief Depthwise convolution on CMSIS-NN's
 *  arm_depthwise_conv_wrapper_f32. */
#include "armsim_cmsis_f32.h"

void armsim_depthwise_conv2d_f32(const armsim_dw_conv_params *params, const armsim_dims *in_dims,
                                 const float *in, const armsim_dims *f_dims, const float *w,
                                 const float *bias, const armsim_dims *out_dims, float *out)
{
    const cmsis_nn_context ctx = armsim_cmsis_ctx();
    const cmsis_nn_dw_conv_params_f32 p = {
        params->multiplier, {params->stride.w, params->stride.h},
        {params->padding.w, params->padding.h}, {params->dilation.w, params->dilation.h},
        armsim_cmsis_act(&params->clamp)};
    const cmsis_nn_dims id = {1, in_dims->h, in_dims->w, in_dims->c};
    const cmsis_nn_dims fd = {1, f_dims->h, f_dims->w, f_dims->c};
    const cmsis_nn_dims bd = {1, 1, 1, out_dims->c};
    const cmsis_nn_dims od = {1, out_dims->h, out_dims->w, out_dims->c};
    if (arm_depthwise_conv_wrapper_f32(&ctx, &p, &id, in, &fd, w, &bd, bias, &od, out) !=
        ARM_CMSIS_NN_SUCCESS) {
        armsim_depthwise_conv2d_generic_f32(params, in_dims, in, f_dims, w, bias, out_dims, out);
    }
}
