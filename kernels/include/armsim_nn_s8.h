/**
 * @file armsim_nn_s8.h
 * @brief armsim's own int8 kernels for the TFLite ops CMSIS-NN has no s8 kernel for.
 *
 * Each follows the integer arithmetic of TensorFlow Lite's reference kernel for the op, so
 * its output is bit-exact with the TFLite interpreter. Requantisation uses CMSIS-NN's
 * arm_nn_requantize (TFLite's MultiplyByQuantizedMultiplier); the multipliers, shifts,
 * offsets and tables are computed on the host from the tensors' scales (armsim/quant.py).
 *
 * Tensor format: int8, any shape, flat in C order. A reduction views its input as
 * [outer][span][inner] and reduces the middle axis.
 */
#ifndef ARMSIM_NN_S8_H
#define ARMSIM_NN_S8_H

#include <stdint.h>

/**
 * @brief Table look-up: out[i] = table[(uint8_t)in[i]] (TFLite's int8 TANH and LOGISTIC).
 * @param[in]  input  int8 input
 * @param[in]  size   number of elements
 * @param[in]  table  256 entries indexed by the input byte read as uint8
 * @param[out] output int8 output (may equal input)
 */
void armsim_lut_s8(const int8_t *input, int32_t size, const int8_t *table, int8_t *output);

/**
 * @brief Leaky ReLU: each side of zero rescaled by its own multiplier (TFLite LEAKY_RELU).
 * @param[in]  input        int8 input
 * @param[in]  size         number of elements
 * @param[in]  input_zp     input zero point
 * @param[in]  output_zp    output zero point
 * @param[in]  ident_mult   multiplier for x >= 0 (s_in / s_out)
 * @param[in]  ident_shift  its shift
 * @param[in]  alpha_mult   multiplier for x < 0 (alpha * s_in / s_out)
 * @param[in]  alpha_shift  its shift
 * @param[out] output       int8 output
 */
void armsim_leaky_relu_s8(const int8_t *input, int32_t size, int32_t input_zp, int32_t output_zp,
                          int32_t ident_mult, int32_t ident_shift, int32_t alpha_mult,
                          int32_t alpha_shift, int8_t *output);

/** Quantization of an int8 PRELU: zero points, and the multipliers for x >= 0
 *  (s_in / s_out) and x < 0 (s_in * s_alpha / s_out). */
typedef struct {
    int32_t input_zp, alpha_zp, output_zp;
    int32_t ident_mult, ident_shift, alpha_mult, alpha_shift;
} armsim_prelu_s8_params;

/**
 * @brief int8 parametric ReLU (TFLite's reference integer PRELU):
 *        out = clamp(out_zp + (x >= 0 ? requant(x, ident) : requant(x * (alpha - alpha_zp),
 *        alpha))), x = in - in_zp.
 * @param[in]  c      alpha's length: the channels (alpha[i % c]), or size (per element)
 */
void armsim_prelu_s8(const int8_t *input, int32_t size, int32_t c, const int8_t *alpha,
                     const armsim_prelu_s8_params *p, int8_t *output);

/**
 * @brief Change of scale with a clamp: out = clamp(out_zp + requant(in - in_zp)) (TFLite's
 *        int8 QUANTIZE, and standalone RELU/RELU6).
 * @param[in]  input      int8 input
 * @param[in]  size       number of elements
 * @param[in]  input_zp   input zero point
 * @param[in]  output_zp  output zero point
 * @param[in]  mult       multiplier (s_in / s_out)
 * @param[in]  shift      shift
 * @param[in]  act_min    lower clamp
 * @param[in]  act_max    upper clamp
 * @param[out] output     int8 output
 */
void armsim_requantize_s8(const int8_t *input, int32_t size, int32_t input_zp, int32_t output_zp,
                          int32_t mult, int32_t shift, int32_t act_min, int32_t act_max,
                          int8_t *output);

/**
 * @brief QUANTIZE from one integer type to another (TFLM's Requantize between int8, int16
 *        and int32): out = clamp(out_zp + requant(in - in_zp)).
 * @param[in]  input      input elements of @p in_bytes bytes each (1, 2 or 4; signed)
 * @param[in]  in_bytes   input element size
 * @param[in]  size       number of elements
 * @param[in]  input_zp   input zero point
 * @param[in]  output_zp  output zero point
 * @param[in]  mult       multiplier (s_in / s_out)
 * @param[in]  shift      shift
 * @param[in]  act_min    lower clamp (the output type's minimum)
 * @param[in]  act_max    upper clamp (its maximum)
 * @param[out] output     output elements of @p out_bytes bytes each
 * @param[in]  out_bytes  output element size
 */
void armsim_requantize_any(const void *input, int32_t in_bytes, int32_t size, int32_t input_zp,
                           int32_t output_zp, int32_t mult, int32_t shift, int32_t act_min,
                           int32_t act_max, void *output, int32_t out_bytes);

/** @brief armsim_requantize_s8 on int16 (a 16x8 model's QUANTIZE: TFLM's Requantize). */
void armsim_requantize_s16(const int16_t *input, int32_t size, int32_t input_zp,
                           int32_t output_zp, int32_t mult, int32_t shift, int32_t act_min,
                           int32_t act_max, int16_t *output);

/** The loop of armsim_requantize_s8/_s16 (one body for both element types). */
#define ARMSIM_REQUANTIZE_LOOP(T)                                                          \
    for (int32_t i = 0; i < size; i++) {                                                   \
        int32_t y = output_zp + arm_nn_requantize((int32_t)input[i] - input_zp, mult, shift); \
        y = y < act_min ? act_min : (y > act_max ? act_max : y);                            \
        output[i] = (T)y;                                                                  \
    }

/**
 * @brief Mean over the middle axis of [outer][span][inner] (TFLite's QuantizedMeanOrSum):
 *        out = clamp(out_zp + requant(sum - in_zp * span)), the 1/span folded into the
 *        multiplier on the host.
 * @param[in]  input      int8 input
 * @param[in]  outer      outer extent
 * @param[in]  span       reduced extent
 * @param[in]  inner      inner extent
 * @param[in]  input_zp   input zero point
 * @param[in]  output_zp  output zero point
 * @param[in]  mult       multiplier (s_in / s_out / span, folded as TFLite folds it)
 * @param[in]  shift      shift
 * @param[out] output     int8 output of outer * inner elements
 */
void armsim_mean_s8(const int8_t *input, int32_t outer, int32_t span, int32_t inner,
                    int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                    int8_t *output);

/** @brief armsim_mean_s8 on int16 (16x8 models; TFLM's QuantizedMeanOrSum<int16_t>). */
void armsim_mean_s16(const int16_t *input, int32_t outer, int32_t span, int32_t inner,
                     int32_t input_zp, int32_t output_zp, int32_t mult, int32_t shift,
                     int16_t *output);

/** The loops of armsim_mean_s8/_s16: an int32 sum, requantized, clamped to [lo, hi]. */
#define ARMSIM_MEAN_LOOP(T, lo, hi)                                                        \
    for (int32_t o = 0; o < outer; o++) {                                                  \
        for (int32_t k = 0; k < inner; k++) {                                              \
            const T *p = input + (o * span) * inner + k;                                   \
            int32_t sum = 0;                                                               \
            for (int32_t s = 0; s < span; s++) {                                           \
                sum += p[s * inner];                                                       \
            }                                                                              \
            int32_t y = output_zp + arm_nn_requantize(sum - input_zp * span, mult, shift); \
            y = y < (lo) ? (lo) : (y > (hi) ? (hi) : y);                                   \
            output[o * inner + k] = (T)y;                                                  \
        }                                                                                  \
    }

/**
 * @brief Maximum over the middle axis of [outer][span][inner] (TFLite REDUCE_MAX; input and
 *        output share their quantization).
 * @param[in]  input   int8 input
 * @param[in]  outer   outer extent
 * @param[in]  span    reduced extent
 * @param[in]  inner   inner extent
 * @param[out] output  int8 output of outer * inner elements
 */
void armsim_reduce_max_s8(const int8_t *input, int32_t outer, int32_t span, int32_t inner,
                          int8_t *output);

/**
 * @brief int16 LOGISTIC or TANH as TFLM's reference kernels compute them: the input scaled
 *        to 1/(3 * 4096) units, then CMSIS-NN's sigmoid_table_uint16 interpolated (Q0.15 out).
 * @param[in]  input       int16 input
 * @param[in]  size        number of elements
 * @param[in]  multiplier  TFLM's input_multiplier (0: power-of-two scale, 3 << left_shift)
 * @param[in]  left_shift  TFLM's input_left_shift (a rounding right shift after multiplying)
 * @param[in]  is_tanh     1: tanh, 0: sigmoid
 * @param[out] output      int16 output (scale 2^-15)
 */
void armsim_sigmoid_tanh_s16(const int16_t *input, int32_t size, int32_t multiplier,
                             int32_t left_shift, int32_t is_tanh, int16_t *output);

/**
 * @brief int8 LOG_SOFTMAX over the last axis with TFLite's reference integer arithmetic
 *        (LogSoftmaxQuantized: gemmlowp's exp and log in fixed point); output scale 16/256,
 *        zero point 127.
 * @param[in]  input          int8 input of rows x depth
 * @param[in]  rows           outer extent
 * @param[in]  depth          last axis
 * @param[in]  mult           input multiplier (beta * s_in in Q5.26)
 * @param[in]  shift          its left shift
 * @param[in]  reverse_mult   the reverse scaling divisor
 * @param[in]  reverse_shift  its shift (<= 0)
 * @param[in]  diff_min       the smallest input difference that counts
 * @param[out] output         int8 output
 */
void armsim_log_softmax_s8(const int8_t *input, int32_t rows, int32_t depth, int32_t mult,
                           int32_t shift, int32_t reverse_mult, int32_t reverse_shift,
                           int32_t diff_min, int8_t *output);

/** @brief armsim_reduce_max_s8 on int16 (16x8 models). */
void armsim_reduce_max_s16(const int16_t *input, int32_t outer, int32_t span, int32_t inner,
                           int16_t *output);

/** The loops of armsim_reduce_max_s8/_s16 (``lowest``: the type's minimum). */
#define ARMSIM_REDUCE_MAX_LOOP(T, lowest)                                                  \
    for (int32_t o = 0; o < outer; o++) {                                                  \
        for (int32_t k = 0; k < inner; k++) {                                              \
            const T *p = input + (o * span) * inner + k;                                   \
            T best = (lowest);                                                             \
            for (int32_t s = 0; s < span; s++) {                                           \
                best = p[s * inner] > best ? p[s * inner] : best;                          \
            }                                                                              \
            output[o * inner + k] = best;                                                  \
        }                                                                                  \
    }

/**
 * @brief Dense layer requantized as TFLite's reference kernel does (FullyConnected and
 *        FullyConnectedPerChannel with float scales): out = clamp(round((double)acc *
 *        scale) + out_zp), scale = s_in * s_w / s_out in double precision. CMSIS-NN's
 *        arm_fully_connected_s8 uses TFLM's integer multiplier instead, which differs from
 *        the TFLite interpreter by one step where the product lies near a half.
 * @param[in]  input          int8 input, [batches][n_in]
 * @param[in]  batches        rows of the input
 * @param[in]  n_in           accumulation depth
 * @param[in]  weights        int8 weights, [n_out][n_in] (symmetric: zero point 0)
 * @param[in]  bias           int32 bias of n_out values, or NULL
 * @param[in]  n_out          output depth
 * @param[in]  input_offset   minus the input zero point
 * @param[in]  output_offset  the output zero point
 * @param[in]  scales         n_out scales (per_channel) or one
 * @param[in]  per_channel    nonzero when scales has one value per output channel
 * @param[in]  act_min        lower clamp
 * @param[in]  act_max        upper clamp
 * @param[out] output         int8 output, [batches][n_out]
 */
void armsim_fully_connected_s8(const int8_t *input, int32_t batches, int32_t n_in,
                               const int8_t *weights, const int32_t *bias, int32_t n_out,
                               int32_t input_offset, int32_t output_offset, const double *scales,
                               int32_t per_channel, int32_t act_min, int32_t act_max,
                               int8_t *output);

/**
 * @brief Bilinear resize with TFLite's integer kernel (ResizeBilinearInteger): 10-bit
 * fixed-point positions, the four weighted neighbours summed in 20 bits, rounded half away
 * from zero; one quantization in and out.
 * @param[in]  in   int8 [H][in_w][channels]
 * @param[in]  ys   per output row: y0, y1 and the 10-bit weight of y1 (3 entries)
 * @param[in]  xs   per output column: x0, x1 and the weight of x1
 * @param[out] out  int8 [out_h][out_w][channels]
 */
void armsim_resize_bilinear_s8(const int8_t *in, int32_t in_w, int32_t channels,
                               int32_t out_h, int32_t out_w, const int32_t *ys,
                               const int32_t *xs, int8_t *out);

/** Geometry and quantization of an int8 transposed convolution. */
typedef struct {
    int32_t in_h, in_w, cin;    /**< input [in_h][in_w][cin] */
    int32_t out_h, out_w, cout; /**< output [out_h][out_w][cout] */
    int32_t kh, kw;             /**< kernel size */
    int32_t sy, sx;             /**< strides */
    int32_t top, left;          /**< what TFLite's padding cuts from the full scatter */
    int32_t input_offset;       /**< minus the input zero point */
    int32_t output_offset;      /**< the output zero point */
    int32_t act_min, act_max;   /**< the fused activation's range */
    const int32_t *mult;        /**< per output channel multiplier */
    const int32_t *shift;       /**< per output channel shift */
} armsim_transpose_conv_s8_params;

/**
 * @brief Transposed convolution with TFLite's reference integer arithmetic (TRANSPOSE_CONV):
 * out[oy][ox][oc] sums (in[iy][ix][ic] + input_offset) * w[ky][kx][oc][ic] over
 * iy * sy + ky = oy + top (likewise x), adds the bias, requantizes per output channel.
 * @param[in]  w     int8 [kh][kw][cout][cin]
 * @param[in]  bias  int32 [cout], or NULL
 */
void armsim_transpose_conv_s8(const armsim_transpose_conv_s8_params *p, const int8_t *in,
                              const int8_t *w, const int32_t *bias, int8_t *out);

/** Quantization of an int8 SUB (TFLite's PrepareGeneralSubOp, as for ADD). */
typedef struct {
    int32_t input1_offset, input1_mult, input1_shift; /**< minus zero point, rescale */
    int32_t input2_offset, input2_mult, input2_shift;
    int32_t left_shift;                               /**< 20 for int8 */
    int32_t output_offset, output_mult, output_shift;
    int32_t act_min, act_max;
} armsim_sub_s8_params;

/**
 * @brief The two inputs' rescaled difference, the common part of SUB and
 * SQUARED_DIFFERENCE: each shifted left and rescaled to twice the larger input scale
 * (``requantize``: CMSIS-NN's arm_nn_requantize, passed in to keep this header free of
 * CMSIS-NN's).
 */
#define ARMSIM_RESCALED_DIFFERENCE(a, b, p, requantize)                                    \
    ((requantize)(((a) + (p)->input1_offset) * (1 << (p)->left_shift), (p)->input1_mult,    \
                  (p)->input1_shift) -                                                     \
     (requantize)(((b) + (p)->input2_offset) * (1 << (p)->left_shift), (p)->input2_mult,    \
                  (p)->input2_shift))

/**
 * @brief Element-wise difference with TFLite's reference arithmetic (SubElementwise): both
 * inputs shifted left and rescaled to twice the larger input scale, subtracted, rescaled
 * to the output. (CMSIS-NN's add with the second multiplier negated is not the same: its
 * doubling multiply rounds halves up, not symmetrically.)
 */
void armsim_sub_s8(const int8_t *a, const int8_t *b, int32_t size,
                   const armsim_sub_s8_params *p, int8_t *out);

/** @brief armsim_sub_s8 on int16 (16x8 models: left shift 15, TFLM's reference Sub). */
void armsim_sub_s16(const int16_t *a, const int16_t *b, int32_t size,
                    const armsim_sub_s8_params *p, int16_t *out);

/** The loop of armsim_sub_s8/_s16 (element type ``T``). */
#define ARMSIM_SUB_LOOP(T)                                                                 \
    for (int32_t i = 0; i < size; i++) {                                                   \
        const int32_t d = ARMSIM_RESCALED_DIFFERENCE(a[i], b[i], p, arm_nn_requantize);    \
        int32_t r = arm_nn_requantize(d, p->output_mult, p->output_shift) + p->output_offset; \
        r = r < p->act_min ? p->act_min : r > p->act_max ? p->act_max : r;                 \
        out[i] = (T)r;                                                                     \
    }

/**
 * @brief Element-wise squared difference with TFLite's reference arithmetic
 * (SquaredDifference): both inputs shifted left 7 bits and rescaled to twice the larger
 * input scale, subtracted, squared, rescaled to the output (the SUB struct's fields; its
 * output multiplier may exceed one).
 */
void armsim_squared_difference_s8(const int8_t *a, const int8_t *b, int32_t size,
                                  const armsim_sub_s8_params *p, int8_t *out);

#endif /* ARMSIM_NN_S8_H */
