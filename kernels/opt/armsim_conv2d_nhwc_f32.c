/**
 * @file armsim_conv2d_nhwc_f32.c
 * @brief Convolution on natural layouts: for each kernel row, the valid taps of the input
 *        row and of the filter row are contiguous, so each is one dot product.
 */
#include "armsim_nn_dot.h"
#include "armsim_nn_opt.h"
#include "armsim_nn_support.h"

void armsim_conv2d_nhwc_f32(const armsim_conv_params *params, const armsim_view *input,
                            const float *in, const armsim_view *filter, const float *w,
                            const float *bias, const armsim_dims *out_dims, float *out)
{
    const armsim_clamp clamp = params->clamp;
    const int32_t ih = input->dims.h, iw = input->dims.w, ic = input->dims.c;
    const int32_t kh = filter->dims.h, kw = filter->dims.w, fn = filter->stride.n;
    const int32_t ow = out_dims->w, oc = out_dims->c;
    for (int32_t oy = 0; oy < out_dims->h; oy++) {
        const int32_t iy0 = oy * params->stride.h - params->padding.h;
        int32_t ky0, ky1;
        armsim_tap_range(iy0, 1, kh, ih, &ky0, &ky1);
        for (int32_t ox = 0; ox < ow; ox++) {
            const int32_t ix0 = ox * params->stride.w - params->padding.w;
            int32_t kx0, kx1;
            armsim_tap_range(ix0, 1, kw, iw, &kx0, &kx1);
            const int32_t run = (kx1 - kx0) * ic;
            const float *xbase = in + ((iy0 * iw) + ix0 + kx0) * ic;
            const float *wbase = w + kx0 * ic;
            float *dst = out + (oy * ow + ox) * oc;
            int32_t o = 0;
            for (; o + 4 <= oc; o += 4) {
                float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    const float *w0 = wbase + o * fn + ky * kw * ic;
                    armsim_dot4(xbase + ky * iw * ic, w0, w0 + fn, w0 + 2 * fn, w0 + 3 * fn,
                                run, acc);
                }
                for (int32_t j = 0; j < 4; j++) {
                    dst[o + j] = armsim_clampf(bias ? acc[j] + bias[o + j] : acc[j],
                                               &clamp);
                }
            }
            for (; o < oc; o++) {
                float acc = 0.0f;
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    acc = armsim_dot1(xbase + ky * iw * ic, wbase + o * fn + ky * kw * ic, run,
                                      acc);
                }
                dst[o] = armsim_clampf(bias ? acc + bias[o] : acc, &clamp);
            }
        }
    }
}
