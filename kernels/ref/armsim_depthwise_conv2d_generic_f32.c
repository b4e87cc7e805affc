/** @file armsim_depthwise_conv2d_generic_f32.c  @brief Depthwise convolution (reference). */
#include "armsim_nn_support.h"

void armsim_depthwise_conv2d_generic_f32(const armsim_dw_conv_params *p,
                                         const armsim_dims *in_dims, const float *in,
                                         const armsim_dims *f_dims, const float *w,
                                         const float *bias, const armsim_dims *out_dims,
                                         float *out)
{
    const int32_t iw = in_dims->w, ic = in_dims->c, kw = f_dims->w, m = p->multiplier;
    const int32_t oh = out_dims->h, ow = out_dims->w, oc = out_dims->c;
    for (int32_t oy = 0; oy < oh; oy++) {
        const int32_t iy0 = oy * p->stride.h - p->padding.h;
        int32_t ky0, ky1;
        armsim_tap_range(iy0, p->dilation.h, f_dims->h, in_dims->h, &ky0, &ky1);
        for (int32_t ox = 0; ox < ow; ox++) {
            const int32_t ix0 = ox * p->stride.w - p->padding.w;
            int32_t kx0, kx1;
            armsim_tap_range(ix0, p->dilation.w, kw, iw, &kx0, &kx1);
            float *dst = out + (oy * ow + ox) * oc;
            for (int32_t o = 0; o < oc; o++) {
                const int32_t c = o / m;
                float acc = 0.0f;
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    const int32_t iy = iy0 + ky * p->dilation.h;
                    for (int32_t kx = kx0; kx < kx1; kx++) {
                        const int32_t ix = ix0 + kx * p->dilation.w;
                        acc += in[(iy * iw + ix) * ic + c] * w[(ky * kw + kx) * oc + o];
                    }
                }
                if (bias != 0) {
                    acc += bias[o];
                }
                dst[o] = armsim_clampf(acc, &p->clamp);
            }
        }
    }
}
