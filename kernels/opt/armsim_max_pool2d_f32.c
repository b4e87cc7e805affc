/**
 * @file armsim_max_pool2d_f32.c (optimized)
 * @brief Max pooling op entry: 2x2 windows with stride 2 take a straight-line path of
 *        four loads and three compares per output wherever the window lies inside the
 *        input; edge windows and other shapes fall back to the generic reference kernel.
 */
#include "armsim_nn_support.h"

static inline float max2(float a, float b)
{
    return b > a ? b : a;
}

void armsim_max_pool2d_f32(const armsim_pool_params *p, const armsim_dims *in_dims,
                           const float *in, const armsim_dims *out_dims, float *out)
{
    const armsim_clamp clamp = p->clamp;
    const int fast = p->window.h == 2 && p->window.w == 2 && p->stride.h == 2 &&
                     p->stride.w == 2 && p->padding.h == 0 && p->padding.w == 0;
    if (!fast) {
        armsim_max_pool2d_generic_f32(p, in_dims, in, out_dims, out);
        return;
    }
    const int32_t iw = in_dims->w, c = in_dims->c;
    const int32_t full_h = in_dims->h / 2, full_w = in_dims->w / 2;
    for (int32_t oy = 0; oy < full_h; oy++) {
        for (int32_t ox = 0; ox < full_w; ox++) {
            const float *a = in + ((oy * 2) * iw + ox * 2) * c;
            const float *b = a + iw * c;
            float *dst = out + (oy * out_dims->w + ox) * c;
            for (int32_t ch = 0; ch < c; ch++) {
                const float m = max2(max2(a[ch], a[c + ch]), max2(b[ch], b[c + ch]));
                dst[ch] = armsim_clampf(m, &clamp);
            }
        }
    }
    if (full_h < out_dims->h || full_w < out_dims->w) {
        /* the clipped last row/column ("same" padding on odd sizes): the generic kernel
           recomputes the whole output, which is rare and keeps one definition of edges */
        armsim_max_pool2d_generic_f32(p, in_dims, in, out_dims, out);
    }
}
