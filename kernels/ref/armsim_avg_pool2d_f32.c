/** @file armsim_avg_pool2d_f32.c  @brief Average pooling over the valid cells (reference). */
#include "armsim_nn_support.h"

void armsim_avg_pool2d_f32(const armsim_pool_params *p, const armsim_dims *in_dims,
                           const float *in, const armsim_dims *out_dims, float *out)
{
    const int32_t ih = in_dims->h, iw = in_dims->w, c = in_dims->c;
    for (int32_t oy = 0; oy < out_dims->h; oy++) {
        int32_t ya, yb;
        armsim_window(oy, p->stride.h, p->padding.h, p->window.h, ih, &ya, &yb);
        for (int32_t ox = 0; ox < out_dims->w; ox++) {
            int32_t xa, xb;
            armsim_window(ox, p->stride.w, p->padding.w, p->window.w, iw, &xa, &xb);
            const float count = (float)((yb - ya) * (xb - xa));
            for (int32_t ch = 0; ch < c; ch++) {
                float sum = 0.0f;
                for (int32_t y = ya; y < yb; y++) {
                    for (int32_t x = xa; x < xb; x++) {
                        sum += in[(y * iw + x) * c + ch];
                    }
                }
                out[(oy * out_dims->w + ox) * c + ch] = armsim_clampf(sum / count, &p->clamp);
            }
        }
    }
}
