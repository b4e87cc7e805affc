/**
 * @file armsim_fully_connected_f32.c (optimized)
 * @brief Dense op entry: four outputs share each input load; the outputs left over take
 *        the generic reference kernel on the remaining weight rows.
 */
#include "armsim_nn_dot.h"
#include "armsim_nn_support.h"

void armsim_fully_connected_f32(const armsim_clamp *clamp, const float *in, int32_t rows,
                                int32_t n_in, const float *w, const float *bias, int32_t n_out,
                                float *out)
{
    const int32_t quads = n_out / 4 * 4;
    for (int32_t r = 0; r < rows; r++) {
        const float *x = in + r * n_in;
        float *y = out + r * n_out;
        for (int32_t o = 0; o < quads; o += 4) {
            float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            const float *w0 = w + o * n_in;
            armsim_dot4(x, w0, w0 + n_in, w0 + 2 * n_in, w0 + 3 * n_in, n_in, acc);
            for (int32_t j = 0; j < 4; j++) {
                y[o + j] = armsim_clampf(bias ? acc[j] + bias[o + j] : acc[j], clamp);
            }
        }
        if (quads < n_out) {
            armsim_fully_connected_generic_f32(clamp, x, 1, n_in, w + quads * n_in,
                                               bias ? bias + quads : 0, n_out - quads, y + quads);
        }
    }
}
