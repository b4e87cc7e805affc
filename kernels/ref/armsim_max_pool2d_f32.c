/** @file armsim_max_pool2d_f32.c  @brief Max pooling op entry (reference: the generic kernel). */
#include "armsim_nn.h"

void armsim_max_pool2d_f32(const armsim_pool_params *params, const armsim_dims *in_dims,
                           const float *in, const armsim_dims *out_dims, float *out)
{
    armsim_max_pool2d_generic_f32(params, in_dims, in, out_dims, out);
}
