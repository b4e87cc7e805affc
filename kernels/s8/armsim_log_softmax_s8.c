/** @file armsim_log_softmax_s8.c  @brief int8 LOG_SOFTMAX with TFLite's reference integer
 *  arithmetic (reference_ops::LogSoftmaxQuantized and gemmlowp's fixed point: the sum of
 *  exps in Q12.19, its log in Q5.26, the output in Q4 steps of 16/256 from 127). */
#include "arm_nnsupportfunctions.h"
#include "armsim_nn_s8.h"

/* x * 2^e for e >= 0, saturating (TFLite's SaturatingRoundingMultiplyByPOTParam) */
static int32_t shl_sat(int32_t x, int32_t e)
{
    return e == 0 ? x : arm_nn_mult_by_power_of_two(x, e);
}

static int32_t add_sat(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + b;
    return s > NN_Q31_MAX ? NN_Q31_MAX : (s < NN_Q31_MIN ? NN_Q31_MIN : (int32_t)s);
}

/* gemmlowp's RoundingHalfSum */
static int32_t half_sum(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + b;
    return (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
}

static int32_t clz32(uint32_t v)
{
    return v == 0u ? 32 : __builtin_clz(v);
}

/* log(x) of a Q12.19 x >= 1 in Q5.26: TFLite's log_x_for_x_greater_than_or_equal_to_1<5, 12>
 * (its _impl, step for step; accumulation in Q6.25) */
static int32_t log_q12_to_q5(int32_t x)
{
    const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
    const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769;
    const int32_t alpha_f = 638450708;
    const int32_t in_bits = 12, acc_bits = 6;
    const int32_t shifted_quarter = arm_nn_divide_by_power_of_two(536870912, acc_bits);

    const int32_t z_a_headroom_plus_1 = clz32((uint32_t)x);
    const int32_t r_a_tmp = shl_sat(x, z_a_headroom_plus_1 - 1);
    const int32_t r_a = shl_sat(arm_nn_doubling_high_mult(r_a_tmp, sqrt_half), 1);
    const int32_t z_a_pow_2_adj =
        add_sat(shl_sat(in_bits - z_a_headroom_plus_1, 31 - acc_bits), shifted_quarter);

    const int32_t z_b = arm_nn_doubling_high_mult(x, sqrt_half);
    const int32_t z_b_headroom = clz32((uint32_t)z_b) - 1;
    const int32_t r_b = shl_sat(x, z_b_headroom);
    const int32_t z_b_pow_2_adj =
        add_sat(shl_sat(in_bits - z_b_headroom, 31 - acc_bits), -shifted_quarter);

    const int32_t r = r_a < r_b ? r_a : r_b;
    const int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;

    const int32_t p = half_sum(r, sqrt_sqrt_half);
    int32_t q = (int32_t)((uint32_t)r - (uint32_t)sqrt_sqrt_half);
    q = (int32_t)((uint32_t)q + (uint32_t)q);

    const int32_t common_sq = arm_nn_doubling_high_mult(q, q);
    const int32_t num = (int32_t)((uint32_t)arm_nn_doubling_high_mult(q, r) +
                                  (uint32_t)arm_nn_doubling_high_mult(
                                      arm_nn_doubling_high_mult(q, common_sq), alpha_n));
    const int32_t inner = (int32_t)((uint32_t)alpha_i + (uint32_t)q +
                                    (uint32_t)arm_nn_doubling_high_mult(alpha_d, common_sq));
    const int32_t denom_minus_one = (int32_t)((uint32_t)arm_nn_doubling_high_mult(p, inner) +
                                              (uint32_t)arm_nn_doubling_high_mult(alpha_f, q));
    const int32_t recip_denom = arm_nn_one_over_one_plus_x_for_x_in_0_1(denom_minus_one);

    const int32_t num_scaled = arm_nn_divide_by_power_of_two(num, acc_bits);
    const int32_t sum = (int32_t)((uint32_t)arm_nn_doubling_high_mult(z_pow_2_adj, log_2) +
                                  (uint32_t)arm_nn_doubling_high_mult(num_scaled, recip_denom));
    return arm_nn_mult_by_power_of_two(sum, acc_bits - 5);
}

void armsim_log_softmax_s8(const int8_t *input, int32_t rows, int32_t depth, int32_t mult,
                           int32_t shift, int32_t reverse_mult, int32_t reverse_shift,
                           int32_t diff_min, int8_t *output)
{
    for (int32_t row = 0; row < rows; row++) {
        const int8_t *x = input + row * depth;
        int8_t *y = output + row * depth;
        int8_t max_in_row = -128;
        for (int32_t c = 0; c < depth; c++) {
            max_in_row = x[c] > max_in_row ? x[c] : max_in_row;
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= diff_min) {
                const int32_t in_q5 = arm_nn_requantize(diff, mult, shift);
                sum_of_exps += arm_nn_divide_by_power_of_two(
                    arm_nn_exp_on_negative_values(in_q5), 12);
            }
        }
        const int32_t log_sum = log_q12_to_q5(sum_of_exps);
        const int32_t shifted = log_sum + NN_Q31_MIN;
        const int32_t limit = arm_nn_requantize(shifted, reverse_mult, reverse_shift);
        const int32_t adjusted_diff_min = diff_min - 1 > limit ? diff_min - 1 : limit;
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff > adjusted_diff_min) {
                const int32_t in_q5 = arm_nn_requantize(diff, mult, shift);
                int32_t out = arm_nn_divide_by_power_of_two(in_q5 - log_sum, 31 - 5 - 4) + 127;
                out = out > 127 ? 127 : (out < -128 ? -128 : out);
                y[c] = (int8_t)out;
            } else {
                y[c] = -128;
            }
        }
    }
}
