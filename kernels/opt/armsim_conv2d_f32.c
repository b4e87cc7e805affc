/**
 * @file armsim_conv2d_f32.c (optimized)
 * @brief Convolution op entry: specialised kernels claim the shapes they handle (a single
 *        input channel with contiguous taps, then natural NHWC/OHWI layouts); everything else
 *        falls back to the generic reference kernel.
 */
#include "armsim_nn.h"
#include "armsim_nn_opt.h"

void armsim_conv2d_f32(const armsim_conv_params *params, const armsim_view *input,
                       const float *in, const armsim_view *filter, const float *w,
                       const float *bias, const armsim_dims *out_dims, float *out)
{
    const int32_t ic = input->dims.c, kh = filter->dims.h, kw = filter->dims.w;
    const int dense_in = input->stride.c == 1 && input->stride.w == ic &&
                         input->stride.h == input->dims.w * ic;
    const int dense_f = filter->stride.c == 1 && filter->stride.w == ic &&
                        filter->stride.h == kw * ic && filter->stride.n == kh * kw * ic;
    const int undilated = params->dilation.h == 1 && params->dilation.w == 1;
    if (ic == 1 && armsim_conv2d_1ch_f32(params, input, in, filter, w, bias, out_dims, out)) {
        return;
    }
    if (dense_in && dense_f && undilated) {
        if (kh == 1 && kw == 1 && params->stride.h == 1 && params->stride.w == 1 &&
            params->padding.h == 0 && params->padding.w == 0) {
            armsim_conv2d_1x1_f32(params, input, in, filter, w, bias, out_dims, out);
        } else {
            armsim_conv2d_nhwc_f32(params, input, in, filter, w, bias, out_dims, out);
        }
        return;
    }
    armsim_conv2d_generic_f32(params, input, in, filter, w, bias, out_dims, out);
}
