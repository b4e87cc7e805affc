/**
 * @file armsim_conv2d_1ch_f32.c
 * @brief One input channel with any input strides (the seed layout's transposed image, the
 *        first layer of most models). Unpadded 3x3 and 5x5 kernels load an output pixel's
 *        taps once into registers and reuse them for every filter, whose weights are read at
 *        fixed offsets (two variants: taps stored row-major or column-major). Other shapes
 *        gather the taps (zeros where padding is) into a small array in the filter's own
 *        order and take one contiguous dot product over it per filter.
 */
#include "armsim_nn_dot.h"
#include "armsim_nn_opt.h"
#include "armsim_nn_support.h"

#define ARMSIM_1CH_MAX_TAPS 64

/* One filter against taps t[ky][kx] held in registers; weight of tap (ky, kx) at
 * k[ky * FH + kx * FW] with FH/FW compile-time constants. */
#define TAP(ky, kx) acc += t##ky##kx * k[(ky) * FH + (kx) * FW];

#define LOAD_ROW3(ky)                                                                 \
    const float t##ky##0 = r##ky[0], t##ky##1 = r##ky[sw], t##ky##2 = r##ky[2 * sw];
#define LOAD_ROW5(ky)                                                                 \
    const float t##ky##0 = r##ky[0], t##ky##1 = r##ky[sw], t##ky##2 = r##ky[2 * sw],  \
                t##ky##3 = r##ky[3 * sw], t##ky##4 = r##ky[4 * sw];
#define TAPS_ROW3(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2)
#define TAPS_ROW5(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2) TAP(ky, 3) TAP(ky, 4)

#define DEFINE_KXK(NAME, K, FH, FW, ROWS)                                                 \
    static void NAME(const armsim_conv_params *p, const armsim_view *input, const float *in, \
                     const float *w, const float *bias, const armsim_dims *out_dims,      \
                     float *out)                                                          \
    {                                                                                     \
        const int32_t sh = input->stride.h, sw = input->stride.w, oc = out_dims->c;       \
        for (int32_t oy = 0; oy < out_dims->h; oy++) {                                    \
            for (int32_t ox = 0; ox < out_dims->w; ox++) {                                \
                const float *r0 = in + oy * p->stride.h * sh + ox * p->stride.w * sw;     \
                ROWS                                                                      \
                float *dst = out + (oy * out_dims->w + ox) * oc;                          \
                const float *k = w;                                                       \
                for (int32_t o = 0; o < oc; o++, k += (K) * (K)) {                        \
                    float acc = 0.0f;                                                     \
                    TAPS_##K                                                              \
                    if (bias != 0) {                                                      \
                        acc += bias[o];                                                   \
                    }                                                                     \
                    dst[o] = armsim_clampf(acc, &p->clamp);                               \
                }                                                                         \
            }                                                                             \
        }                                                                                 \
    }

#define ROWS_3 const float *r1 = r0 + sh, *r2 = r1 + sh; \
    LOAD_ROW3(0) LOAD_ROW3(1) LOAD_ROW3(2)
#define ROWS_5 const float *r1 = r0 + sh, *r2 = r1 + sh, *r3 = r2 + sh, *r4 = r3 + sh; \
    LOAD_ROW5(0) LOAD_ROW5(1) LOAD_ROW5(2) LOAD_ROW5(3) LOAD_ROW5(4)
#define TAPS_3 TAPS_ROW3(0) TAPS_ROW3(1) TAPS_ROW3(2)
#define TAPS_5 TAPS_ROW5(0) TAPS_ROW5(1) TAPS_ROW5(2) TAPS_ROW5(3) TAPS_ROW5(4)

#define FH 3
#define FW 1
DEFINE_KXK(conv3_rows, 3, FH, FW, ROWS_3)
#undef FH
#undef FW
#define FH 1
#define FW 3
DEFINE_KXK(conv3_cols, 3, FH, FW, ROWS_3)
#undef FH
#undef FW
#define FH 5
#define FW 1
DEFINE_KXK(conv5_rows, 5, FH, FW, ROWS_5)
#undef FH
#undef FW
#define FH 1
#define FW 5
DEFINE_KXK(conv5_cols, 5, FH, FW, ROWS_5)
#undef FH
#undef FW

static void conv_gather(const armsim_conv_params *params, const armsim_view *input,
                        const float *in, const armsim_view *filter, const float *w,
                        const float *bias, const armsim_dims *out_dims, float *out)
{
    const armsim_clamp clamp = params->clamp;
    const int32_t kh = filter->dims.h, kw = filter->dims.w, taps = kh * kw;
    const int32_t fh = filter->stride.h, fw = filter->stride.w, fn = filter->stride.n;
    const int32_t sh = input->stride.h, sw = input->stride.w, oc = out_dims->c;
    const int32_t ih = input->dims.h, iw = input->dims.w;
    float t[ARMSIM_1CH_MAX_TAPS];
    for (int32_t oy = 0; oy < out_dims->h; oy++) {
        const int32_t iy0 = oy * params->stride.h - params->padding.h;
        for (int32_t ox = 0; ox < out_dims->w; ox++) {
            const int32_t ix0 = ox * params->stride.w - params->padding.w;
            for (int32_t ky = 0; ky < kh; ky++) {
                const int32_t iy = iy0 + ky;
                for (int32_t kx = 0; kx < kw; kx++) {
                    const int32_t ix = ix0 + kx;
                    const int inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw;
                    t[ky * fh + kx * fw] = inside ? in[iy * sh + ix * sw] : 0.0f;
                }
            }
            armsim_dot_rows(t, w, fn, taps, bias, oc, &clamp,
                            out + (oy * out_dims->w + ox) * oc);
        }
    }
}

int armsim_conv2d_1ch_f32(const armsim_conv_params *params, const armsim_view *input,
                          const float *in, const armsim_view *filter, const float *w,
                          const float *bias, const armsim_dims *out_dims, float *out)
{
    const int32_t kh = filter->dims.h, kw = filter->dims.w, taps = kh * kw;
    const int32_t fh = filter->stride.h, fw = filter->stride.w, fn = filter->stride.n;
    const int rows = fh == kw && fw == 1, cols = fh == 1 && fw == kh;
    if (input->dims.c != 1 || !(rows || cols) || fn != taps || taps > ARMSIM_1CH_MAX_TAPS ||
        params->dilation.h != 1 || params->dilation.w != 1) {
        return 0;
    }
    const int unpadded = params->padding.h == 0 && params->padding.w == 0;
    if (unpadded && kh == 5 && kw == 5) {
        (rows ? conv5_rows : conv5_cols)(params, input, in, w, bias, out_dims, out);
    } else if (unpadded && kh == 3 && kw == 3) {
        (rows ? conv3_rows : conv3_cols)(params, input, in, w, bias, out_dims, out);
    } else {
        conv_gather(params, input, in, filter, w, bias, out_dims, out);
    }
    return 1;
}
