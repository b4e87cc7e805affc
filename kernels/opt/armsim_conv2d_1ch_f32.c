/**
 * @file armsim_conv2d_1ch_f32.c
 * @brief One input channel with any input strides (the seed layout's transposed image):
 *        an output pixel's taps are gathered once, in the filter's own tap order, and
 *        every filter is then one contiguous dot product over them.
 */
#include "armsim_nn_dot.h"
#include "armsim_nn_opt.h"
#include "armsim_nn_support.h"

#define ARMSIM_1CH_MAX_TAPS 64

int armsim_conv2d_1ch_f32(const armsim_conv_params *params, const armsim_view *input,
                          const float *in, const armsim_view *filter, const float *w,
                          const float *bias, const armsim_dims *out_dims, float *out)
{
    const int32_t kh = filter->dims.h, kw = filter->dims.w, taps = kh * kw;
    const int32_t fh = filter->stride.h, fw = filter->stride.w, fn = filter->stride.n;
    const int contiguous = (fh == kw && fw == 1) || (fh == 1 && fw == kh);
    if (input->dims.c != 1 || !contiguous || fn != taps || taps > ARMSIM_1CH_MAX_TAPS ||
        params->padding.h != 0 || params->padding.w != 0 || params->dilation.h != 1 ||
        params->dilation.w != 1) {
        return 0;
    }
    const int32_t sh = input->stride.h, sw = input->stride.w, oc = out_dims->c;
    float t[ARMSIM_1CH_MAX_TAPS];
    for (int32_t oy = 0; oy < out_dims->h; oy++) {
        for (int32_t ox = 0; ox < out_dims->w; ox++) {
            const float *x = in + oy * params->stride.h * sh + ox * params->stride.w * sw;
            for (int32_t ky = 0; ky < kh; ky++) {
                for (int32_t kx = 0; kx < kw; kx++) {
                    t[ky * fh + kx * fw] = x[ky * sh + kx * sw];
                }
            }
            float *dst = out + (oy * out_dims->w + ox) * oc;
            int32_t o = 0;
            for (; o + 4 <= oc; o += 4) {
                float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                const float *w0 = w + o * fn;
                armsim_dot4(t, w0, w0 + fn, w0 + 2 * fn, w0 + 3 * fn, taps, acc);
                for (int32_t j = 0; j < 4; j++) {
                    dst[o + j] = armsim_clampf(bias ? acc[j] + bias[o + j] : acc[j],
                                               &params->clamp);
                }
            }
            for (; o < oc; o++) {
                const float acc = armsim_dot1(t, w + o * fn, taps, 0.0f);
                dst[o] = armsim_clampf(bias ? acc + bias[o] : acc, &params->clamp);
            }
        }
    }
    return 1;
}
