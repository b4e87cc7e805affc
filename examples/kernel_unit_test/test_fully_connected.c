/* Unity-style tests of one armsim kernel, armsim_fully_connected_f32, run on the emulated
 * Cortex-M:
 *
 *   armsim build --sources examples/kernel_unit_test/test_fully_connected.c --out t.elf
 *   armsim run t.elf          # prints the results; exit status = failed tests
 *
 * Build with -DBREAK_ONE to see a failing test change the exit status. */
#include <math.h>
#include "armsim_nn.h"
#include "mini_unity.h"

static const armsim_clamp no_clamp = {-INFINITY, INFINITY};
static const armsim_clamp relu = {0.0f, INFINITY};

static void test_identity_weights_copy_the_input(void)
{
    const float in[3] = {1.5f, -2.0f, 0.25f};
    const float w[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    float out[3];
    armsim_fully_connected_f32(&no_clamp, in, 1, 3, w, NULL, 3, out);
    for (int i = 0; i < 3; i++) {
        TEST_ASSERT_FLOAT_WITHIN(0.0f, in[i], out[i]);
    }
}

static void test_bias_and_dot_product(void)
{
    const float in[4] = {1, 2, 3, 4};
    const float w[8] = {1, 1, 1, 1, 0.5f, -1, 0, 2};
    const float bias[2] = {0.5f, -1};
    float out[2];
    armsim_fully_connected_f32(&no_clamp, in, 1, 4, w, bias, 2, out);
    TEST_ASSERT_FLOAT_WITHIN(1e-6f, 10.5f, out[0]);
    TEST_ASSERT_FLOAT_WITHIN(1e-6f, 5.5f, out[1]);
}

static void test_relu_clamps_negative_outputs(void)
{
    const float in[2] = {1, 1};
    const float w[4] = {-1, -1, 1, 2};
    float out[2];
    armsim_fully_connected_f32(&relu, in, 1, 2, w, NULL, 2, out);
    TEST_ASSERT_FLOAT_WITHIN(0.0f, 0.0f, out[0]);
    TEST_ASSERT_FLOAT_WITHIN(1e-6f, 3.0f, out[1]);
}

static void test_several_rows(void)
{
    const float in[6] = {1, 0, 0, 1, 2, 2};
    const float w[2] = {3, 4};
    float out[3];
    armsim_fully_connected_f32(&no_clamp, in, 3, 2, w, NULL, 1, out);
    TEST_ASSERT_FLOAT_WITHIN(1e-6f, 3.0f, out[0]);
    TEST_ASSERT_FLOAT_WITHIN(1e-6f, 4.0f, out[1]);
#ifdef BREAK_ONE
    TEST_ASSERT_FLOAT_WITHIN(1e-6f, 15.0f, out[2]); /* wrong on purpose: 14 is right */
#else
    TEST_ASSERT_FLOAT_WITHIN(1e-6f, 14.0f, out[2]);
#endif
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_identity_weights_copy_the_input);
    RUN_TEST(test_bias_and_dot_product);
    RUN_TEST(test_relu_clamps_negative_outputs);
    RUN_TEST(test_several_rows);
    return UNITY_END();
}
