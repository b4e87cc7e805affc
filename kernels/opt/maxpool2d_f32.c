/**
 * @file maxpool2d_f32.c (optimized)
 * @brief Max pooling, "same" padding; same signature and result as the reference. Windows
 *        that lie wholly inside the input (all of them for 2x2 on even sizes) take a
 *        straight-line path of four loads and three compares.
 */
#include "armsim_kernels.h"

static inline float max2(float a, float b)
{
    return b > a ? b : a;
}

void armsim_maxpool2d_f32(const float *in, int h, int w, int c, int p, float *out)
{
    const int oh = (h + p - 1) / p;
    const int ow = (w + p - 1) / p;
    for (int y = 0; y < oh; y++) {
        for (int x = 0; x < ow; x++) {
            float *dst = out + (y * ow + x) * c;
            if (p == 2 && y * 2 + 1 < h && x * 2 + 1 < w) {
                const float *a = in + ((y * 2) * w + x * 2) * c;
                const float *b = a + w * c;
                for (int ch = 0; ch < c; ch++) {
                    dst[ch] = max2(max2(max2(a[ch], a[c + ch]), b[ch]), b[c + ch]);
                }
                continue;
            }
            for (int ch = 0; ch < c; ch++) {
                float m = in[((y * p) * w + x * p) * c + ch];
                for (int dy = 0; dy < p && y * p + dy < h; dy++) {
                    for (int dx = 0; dx < p && x * p + dx < w; dx++) {
                        m = max2(m, in[((y * p + dy) * w + x * p + dx) * c + ch]);
                    }
                }
                dst[ch] = m;
            }
        }
    }
}
