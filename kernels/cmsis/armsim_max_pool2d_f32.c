/** @file armsim_max_pool2d_f32.c  @brief Max pooling on CMSIS-NN's arm_max_pool_f32. */
#include "armsim_cmsis_f32.h"

void armsim_max_pool2d_f32(const armsim_pool_params *params, const armsim_dims *in_dims,
                           const float *in, const armsim_dims *out_dims, float *out)
{
    const cmsis_nn_context ctx = armsim_cmsis_ctx();
    const cmsis_nn_pool_params_f32 p = {{params->stride.w, params->stride.h},
                                        {params->padding.w, params->padding.h},
                                        armsim_cmsis_act(&params->clamp)};
    const cmsis_nn_dims id = {1, in_dims->h, in_dims->w, in_dims->c};
    const cmsis_nn_dims fd = {1, params->window.h, params->window.w, 1};
    const cmsis_nn_dims od = {1, out_dims->h, out_dims->w, out_dims->c};
    if (arm_max_pool_f32(&ctx, &p, &id, in, &fd, &od, out) != ARM_CMSIS_NN_SUCCESS) {
        armsim_max_pool2d_generic_f32(params, in_dims, in, out_dims, out);
    }
}
