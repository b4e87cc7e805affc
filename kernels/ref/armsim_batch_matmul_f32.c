/** @file armsim_batch_matmul_f32.c
 *  @brief Matrix products over up to two batch axes, the right operand transposed:
 *         out[b][m][n] = sum_k lhs[b][m][k] * rhs_t[b][n][k] (batch axes broadcast). */
#include "armsim_nn.h"

void armsim_batch_matmul_f32(const armsim_dims *lhs_dims, const float *lhs,
                             const armsim_dims *rhs_dims, const float *rhs,
                             const armsim_dims *out_dims, float *out)
{
    const int32_t rows = lhs_dims->w, depth = lhs_dims->c, cols = rhs_dims->w;
    for (int32_t bn = 0; bn < out_dims->n; bn++) {
        for (int32_t bh = 0; bh < out_dims->h; bh++) {
            const int32_t lb = (lhs_dims->n > 1 ? bn : 0) * lhs_dims->h + (lhs_dims->h > 1 ? bh : 0);
            const int32_t rb = (rhs_dims->n > 1 ? bn : 0) * rhs_dims->h + (rhs_dims->h > 1 ? bh : 0);
            const float *a = lhs + lb * rows * depth;
            const float *bt = rhs + rb * cols * depth;
            for (int32_t m = 0; m < rows; m++) {
                for (int32_t n = 0; n < cols; n++) {
                    float acc = 0.0f;
                    for (int32_t k = 0; k < depth; k++) {
                        acc += a[m * depth + k] * bt[n * depth + k];
                    }
                    *out++ = acc;
                }
            }
        }
    }
}
