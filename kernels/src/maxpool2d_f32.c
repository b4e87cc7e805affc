/** @file maxpool2d_f32.c  @brief Max pooling with "same" padding (reference). */
#include "armsim_kernels.h"

void armsim_maxpool2d_f32(const float *in, int h, int w, int c, int p, float *out)
{
    const int oh = (h + p - 1) / p;
    const int ow = (w + p - 1) / p;
    for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
            for (int ch = 0; ch < c; ch++) {
                float m = in[((y * p) * w + x * p) * c + ch];
                for (int dy = 0; dy < p && y * p + dy < h; dy++) {
                    for (int dx = 0; dx < p && x * p + dx < w; dx++) {
                        float v = in[((y * p + dy) * w + x * p + dx) * c + ch];
                        if (v > m) {
                            m = v;
                        }
                    }
                }
                out[(y * ow + x) * c + ch] = m;
            }
        }
    }
}
