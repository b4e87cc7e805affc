/** @file armsim_conv2d_generic_f32.c  @brief 2-D convolution over strided views (reference). */
#include "armsim_nn_support.h"

void armsim_conv2d_generic_f32(const armsim_conv_params *p, const armsim_view *input,
                               const float *in, const armsim_view *filter, const float *w,
                               const float *bias, const armsim_dims *out_dims, float *out)
{
    const int32_t ic = input->dims.c, sc = input->stride.c, fc = filter->stride.c;
    const int32_t oh = out_dims->h, ow = out_dims->w, oc = out_dims->c;
    for (int32_t oy = 0; oy < oh; oy++) {
        const int32_t iy0 = oy * p->stride.h - p->padding.h;
        int32_t ky0, ky1;
        armsim_tap_range(iy0, p->dilation.h, filter->dims.h, input->dims.h, &ky0, &ky1);
        for (int32_t ox = 0; ox < ow; ox++) {
            const int32_t ix0 = ox * p->stride.w - p->padding.w;
            int32_t kx0, kx1;
            armsim_tap_range(ix0, p->dilation.w, filter->dims.w, input->dims.w, &kx0, &kx1);
            float *dst = out + (oy * ow + ox) * oc;
            for (int32_t o = 0; o < oc; o++) {
                float acc = 0.0f;
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    const float *xrow = in + (iy0 + ky * p->dilation.h) * input->stride.h;
                    const float *krow = w + o * filter->stride.n + ky * filter->stride.h;
                    for (int32_t kx = kx0; kx < kx1; kx++) {
                        const float *x = xrow + (ix0 + kx * p->dilation.w) * input->stride.w;
                        const float *k = krow + kx * filter->stride.w;
                        for (int32_t c = 0; c < ic; c++) {
                            acc += x[c * sc] * k[c * fc];
                        }
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
