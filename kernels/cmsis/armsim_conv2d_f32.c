/** @file armsim_conv2d_f32.c  @brief Convolution on CMSIS-NN's arm_convolve_wrapper_f32. */
#include "armsim_cmsis_f32.h"

static int contiguous(const armsim_view *v)
{
    const armsim_dims d = v->dims, s = v->stride;
    return s.c == 1 && s.w == d.c && s.h == d.w * d.c;
}

void armsim_conv2d_f32(const armsim_conv_params *params, const armsim_view *input,
                       const float *in, const armsim_view *filter, const float *w,
                       const float *bias, const armsim_dims *out_dims, float *out)
{
    if (contiguous(input) && contiguous(filter)) {
        const cmsis_nn_context ctx = armsim_cmsis_ctx();
        const cmsis_nn_conv_params_f32 p = {
            {params->stride.w, params->stride.h}, {params->padding.w, params->padding.h},
            {params->dilation.w, params->dilation.h}, armsim_cmsis_act(&params->clamp),
            ARM_NN_WEIGHT_FORMAT_STANDARD};
        const cmsis_nn_dims id = {1, input->dims.h, input->dims.w, input->dims.c};
        const cmsis_nn_dims fd = {filter->dims.n, filter->dims.h, filter->dims.w,
                                  filter->dims.c};
        const cmsis_nn_dims bd = {1, 1, 1, out_dims->c};
        const cmsis_nn_dims od = {1, out_dims->h, out_dims->w, out_dims->c};
        if (arm_convolve_wrapper_f32(&ctx, &p, &id, in, &fd, w, &bd, bias, &od, out) ==
            ARM_CMSIS_NN_SUCCESS) {
            return;
        }
    }
    armsim_conv2d_generic_f32(params, input, in, filter, w, bias, out_dims, out);
}
