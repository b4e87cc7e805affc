/** @file armsim_transpose_conv_s8.c  @brief int8 transposed convolution (TFLite's reference
 *  TRANSPOSE_CONV), as a gather: integer sums do not depend on their order. */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

void armsim_transpose_conv_s8(const armsim_transpose_conv_s8_params *p, const int8_t *in,
                              const int8_t *w, const int32_t *bias, int8_t *out)
{
    for (int32_t oy = 0; oy < p->out_h; oy++) {
        for (int32_t ox = 0; ox < p->out_w; ox++) {
            for (int32_t oc = 0; oc < p->cout; oc++) {
                int32_t acc = 0;
                for (int32_t ky = 0; ky < p->kh; ky++) {
                    const int32_t ty = oy + p->top - ky;
                    if (ty < 0 || ty % p->sy != 0 || ty / p->sy >= p->in_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < p->kw; kx++) {
                        const int32_t tx = ox + p->left - kx;
                        if (tx < 0 || tx % p->sx != 0 || tx / p->sx >= p->in_w) {
                            continue;
                        }
                        const int8_t *x = in + ((ty / p->sy) * p->in_w + tx / p->sx) * p->cin;
                        const int8_t *k = w + ((ky * p->kw + kx) * p->cout + oc) * p->cin;
                        for (int32_t ic = 0; ic < p->cin; ic++) {
                            acc += (x[ic] + p->input_offset) * k[ic];
                        }
                    }
                }
                if (bias != 0) {
                    acc += bias[oc];
                }
                acc = arm_nn_requantize(acc, p->mult[oc], p->shift[oc]) + p->output_offset;
                acc = acc < p->act_min ? p->act_min : acc > p->act_max ? p->act_max : acc;
                *out++ = (int8_t)acc;
            }
        }
    }
}
