/** @file armsim_conv2d_1x1_f32.c  @brief Pointwise convolution, four outputs per input load. */
#include "armsim_nn_dot.h"
#include "armsim_nn_opt.h"
#include "armsim_nn_support.h"

void armsim_conv2d_1x1_f32(const armsim_conv_params *params, const armsim_view *input,
                           const float *in, const armsim_view *filter, const float *w,
                           const float *bias, const armsim_dims *out_dims, float *out)
{
    const int32_t ic = input->dims.c, oc = out_dims->c;
    const int32_t pixels = out_dims->h * out_dims->w;
    (void)filter;
    for (int32_t p = 0; p < pixels; p++) {
        const float *x = in + p * ic;
        float *dst = out + p * oc;
        int32_t o = 0;
        for (; o + 4 <= oc; o += 4) {
            float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            const float *w0 = w + o * ic;
            armsim_dot4(x, w0, w0 + ic, w0 + 2 * ic, w0 + 3 * ic, ic, acc);
            for (int32_t j = 0; j < 4; j++) {
                dst[o + j] = armsim_clampf(bias ? acc[j] + bias[o + j] : acc[j], &params->clamp);
            }
        }
        for (; o < oc; o++) {
            const float acc = armsim_dot1(x, w + o * ic, ic, 0.0f);
            dst[o] = armsim_clampf(bias ? acc + bias[o] : acc, &params->clamp);
        }
    }
}
