/** @file armsim_fully_connected_f32.c  @brief Dense layer on CMSIS-NN's arm_fully_connected_f32. */
#include "armsim_cmsis_f32.h"

void armsim_fully_connected_f32(const armsim_clamp *clamp, const float *in, int32_t rows,
                                int32_t n_in, const float *w, const float *bias, int32_t n_out,
                                float *out)
{
    const cmsis_nn_context ctx = armsim_cmsis_ctx();
    const cmsis_nn_fc_params_f32 p = {armsim_cmsis_act(clamp), ARM_NN_WEIGHT_FORMAT_STANDARD};
    const cmsis_nn_dims id = {rows, 1, 1, n_in};
    const cmsis_nn_dims fd = {n_in, 1, 1, n_out};
    const cmsis_nn_dims bd = {1, 1, 1, n_out};
    const cmsis_nn_dims od = {rows, 1, 1, n_out};
    if (arm_fully_connected_f32(&ctx, &p, &id, in, &fd, w, &bd, bias, &od, out,
                                ARM_NN_LAYOUT_NHWC) != ARM_CMSIS_NN_SUCCESS) {
        armsim_fully_connected_generic_f32(clamp, in, rows, n_in, w, bias, n_out, out);
    }
}
