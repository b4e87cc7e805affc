/** @file armsim_sigmoid_tanh_s16.c  @brief int16 LOGISTIC and TANH as TFLM's reference
 *  kernels compute them (reference_integer_ops::Logistic/Tanh on int16). */
#include "arm_nn_tables.h"
#include "armsim_nn_s8.h"

void armsim_sigmoid_tanh_s16(const int16_t *input, int32_t size, int32_t multiplier,
                             int32_t left_shift, int32_t is_tanh, int16_t *output)
{
    if (multiplier == 0) { /* a power-of-two input scale */
        multiplier = 3 << left_shift;
        left_shift = 0;
    }
    const int32_t round = left_shift > 0 ? 1 << (left_shift - 1) : 0;
    /* tanh(x) = 2 * sigmoid(2x) - 1: the same table, one bit less of fraction */
    const uint32_t frac = is_tanh ? 8u : 9u;
    for (int32_t i = 0; i < size; i++) {
        const int32_t x = ((int32_t)input[i] * multiplier + round) >> left_shift;
        const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
        const uint32_t uh = ax >> frac;
        uint32_t r;
        if (uh >= 255u) {
            r = is_tanh ? 0xFFFFu << 8 : 0x7FFFu << 10; /* saturated */
        } else {
            const uint32_t ua = sigmoid_table_uint16[uh];
            const uint32_t ub = sigmoid_table_uint16[uh + 1];
            r = (ua << frac) + (ax & ((1u << frac) - 1u)) * (ub - ua);
        }
        int32_t y;
        if (is_tanh) {
            const int32_t s = (int32_t)r;
            y = (x >= 0 ? s - (1 << 23) + (1 << 7) : -s + (1 << 23) + (1 << 7) - 1) >> 8;
        } else {
            y = (int32_t)((x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u) >> 10);
        }
        output[i] = (int16_t)y;
    }
}
