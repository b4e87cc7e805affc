/**
 * @file armsim_depthwise_conv2d_m1_f32.c
 * @brief Depthwise convolution, multiplier 1: four channels accumulate together, so the
 *        input and filter loads of a tap are contiguous.
 */
#include "armsim_nn_opt.h"
#include "armsim_nn_support.h"

void armsim_depthwise_conv2d_m1_f32(const armsim_dw_conv_params *params,
                                    const armsim_dims *in_dims, const float *in,
                                    const armsim_dims *f_dims, const float *w,
                                    const float *bias, const armsim_dims *out_dims, float *out)
{
    const armsim_clamp clamp = params->clamp;
    const int32_t iw = in_dims->w, c = in_dims->c, kw = f_dims->w;
    const int32_t ow = out_dims->w;
    for (int32_t oy = 0; oy < out_dims->h; oy++) {
        const int32_t iy0 = oy * params->stride.h - params->padding.h;
        int32_t ky0, ky1;
        armsim_tap_range(iy0, 1, f_dims->h, in_dims->h, &ky0, &ky1);
        for (int32_t ox = 0; ox < ow; ox++) {
            const int32_t ix0 = ox * params->stride.w - params->padding.w;
            int32_t kx0, kx1;
            armsim_tap_range(ix0, 1, kw, iw, &kx0, &kx1);
            float *dst = out + (oy * ow + ox) * c;
            int32_t ch = 0;
            for (; ch + 4 <= c; ch += 4) {
                float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    const float *x = in + ((iy0 + ky) * iw + ix0 + kx0) * c + ch;
                    const float *k = w + (ky * kw + kx0) * c + ch;
                    for (int32_t kx = kx0; kx < kx1; kx++, x += c, k += c) {
                        a0 += x[0] * k[0];
                        a1 += x[1] * k[1];
                        a2 += x[2] * k[2];
                        a3 += x[3] * k[3];
                    }
                }
                if (bias != 0) {
                    a0 += bias[ch];
                    a1 += bias[ch + 1];
                    a2 += bias[ch + 2];
                    a3 += bias[ch + 3];
                }
                dst[ch] = armsim_clampf(a0, &clamp);
                dst[ch + 1] = armsim_clampf(a1, &clamp);
                dst[ch + 2] = armsim_clampf(a2, &clamp);
                dst[ch + 3] = armsim_clampf(a3, &clamp);
            }
            for (; ch < c; ch++) {
                float a = 0.0f;
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    for (int32_t kx = kx0; kx < kx1; kx++) {
                        a += in[((iy0 + ky) * iw + ix0 + kx) * c + ch] * w[(ky * kw + kx) * c + ch];
                    }
                }
                dst[ch] = armsim_clampf(bias ? a + bias[ch] : a, &clamp);
            }
        }
    }
}
