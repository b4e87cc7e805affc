/** @file armsim_conv2d_transpose_f32.c  @brief Transposed 2-D convolution, NHWC (reference). */
#include "armsim_nn_support.h"

void armsim_conv2d_transpose_f32(const armsim_clamp *clamp, const armsim_dims *in_dims,
                                 const float *in, int32_t kh, int32_t kw, int32_t sy,
                                 int32_t sx, int32_t top, int32_t left, const float *kernel,
                                 const float *bias, const armsim_dims *out_dims, float *out)
{
    const int32_t cin = in_dims->c, cout = out_dims->c;
    for (int32_t oy = 0; oy < out_dims->h; oy++) {
        for (int32_t ox = 0; ox < out_dims->w; ox++) {
            float *dst = out + (oy * out_dims->w + ox) * cout;
            for (int32_t o = 0; o < cout; o++) {
                float acc = bias ? bias[o] : 0.0f;
                for (int32_t ky = 0; ky < kh; ky++) {
                    const int32_t ty = oy + top - ky;  /* = iy * sy */
                    if (ty < 0 || ty % sy || ty / sy >= in_dims->h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < kw; kx++) {
                        const int32_t tx = ox + left - kx;
                        if (tx < 0 || tx % sx || tx / sx >= in_dims->w) {
                            continue;
                        }
                        const float *src = in + ((ty / sy) * in_dims->w + tx / sx) * cin;
                        const float *w = kernel + ((ky * kw + kx) * cout + o) * cin;
                        for (int32_t c = 0; c < cin; c++) {
                            acc += src[c] * w[c];
                        }
                    }
                }
                dst[o] = armsim_clampf(acc, clamp);
            }
        }
    }
}
