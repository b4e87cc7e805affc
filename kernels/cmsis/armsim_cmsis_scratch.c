/** @file armsim_cmsis_scratch.c  @brief The scratch the CMSIS-NN float32 kernels share. */
#include "armsim_cmsis_f32.h"

float armsim_cmsis_scratch[ARMSIM_CMSIS_SCRATCH_BYTES / sizeof(float)]
    __attribute__((aligned(8)));
