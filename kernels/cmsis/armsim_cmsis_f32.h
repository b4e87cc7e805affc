/**
 * @file armsim_cmsis_f32.h
 * @brief The "cmsis-nn" float32 kernel set: armsim's op entries backed by Arm's CMSIS-NN
 *        experimental float32 API (built with ARM_NN_ENABLE_F32=1).
 *
 * Each file here replaces the kernels/ref file of the same name. It hands the op to
 * CMSIS-NN when the tensors are in the layout CMSIS-NN takes (contiguous NHWC input, OHWI
 * filter) and CMSIS-NN accepts the arguments, else it falls back to armsim's generic
 * reference kernel, so every model still runs. Kernels that need scratch share one static
 * buffer of ARMSIM_CMSIS_SCRATCH_BYTES (ops run one at a time).
 */
#ifndef ARMSIM_CMSIS_F32_H
#define ARMSIM_CMSIS_F32_H

#include "arm_nnfunctions_flt.h"
#include "armsim_nn.h"

#ifndef ARMSIM_CMSIS_SCRATCH_BYTES
#define ARMSIM_CMSIS_SCRATCH_BYTES 8192
#endif

/** The shared scratch buffer (8-byte aligned). */
extern float armsim_cmsis_scratch[ARMSIM_CMSIS_SCRATCH_BYTES / sizeof(float)];

/** The scratch as a CMSIS-NN context. */
static inline cmsis_nn_context armsim_cmsis_ctx(void)
{
    cmsis_nn_context ctx = {armsim_cmsis_scratch, ARMSIM_CMSIS_SCRATCH_BYTES};
    return ctx;
}

/** armsim's clamp as CMSIS-NN's float activation. */
static inline cmsis_nn_activation_f32 armsim_cmsis_act(const armsim_clamp *c)
{
    cmsis_nn_activation_f32 a = {c->min, c->max};
    return a;
}

#endif /* ARMSIM_CMSIS_F32_H */
