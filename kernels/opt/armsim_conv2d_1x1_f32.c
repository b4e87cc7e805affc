/**
 * @file armsim_conv2d_1x1_f32.c
 * @brief Pointwise convolution: two pixels against four filters at a time, so each input
 *        load feeds four multiply-accumulates and each weight load two.
 */
#include "armsim_nn_dot.h"
#include "armsim_nn_opt.h"
#include "armsim_nn_support.h"

void armsim_conv2d_1x1_f32(const armsim_conv_params *params, const armsim_view *input,
                           const float *in, const armsim_view *filter, const float *w,
                           const float *bias, const armsim_dims *out_dims, float *out)
{
    const armsim_clamp clamp = params->clamp;
    const int32_t ic = input->dims.c, oc = out_dims->c;
    const int32_t pixels = out_dims->h * out_dims->w;
    const int32_t quads = oc / 4 * 4;
    (void)filter;
    int32_t p = 0;
    for (; p + 2 <= pixels; p += 2) {
        const float *x0 = in + p * ic;
        float *d0 = out + p * oc;
        for (int32_t o = 0; o < quads; o += 4) {
            float acc[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
            const float *w0 = w + o * ic;
            armsim_dot2x4(x0, x0 + ic, w0, w0 + ic, w0 + 2 * ic, w0 + 3 * ic, ic, acc);
            for (int32_t j = 0; j < 4; j++) {
                const float b = bias ? bias[o + j] : 0.0f;
                d0[o + j] = armsim_clampf(acc[j] + b, &clamp);
                d0[oc + o + j] = armsim_clampf(acc[4 + j] + b, &clamp);
            }
        }
        for (int32_t o = quads; o < oc; o++) {
            const float b = bias ? bias[o] : 0.0f;
            d0[o] = armsim_clampf(armsim_dot1(x0, w + o * ic, ic, 0.0f) + b, &clamp);
            d0[oc + o] = armsim_clampf(armsim_dot1(x0 + ic, w + o * ic, ic, 0.0f) + b, &clamp);
        }
    }
    if (p < pixels) {
        armsim_dot_rows(in + p * ic, w, ic, ic, bias, oc, &clamp, out + p * oc);
    }
}
