/**
 * @file network.c
 * @brief The seed CNN: reads input and weights at the layout addresses (armsim_layout.h),
 *        leaves every layer's output in a global the emulator reads through ELF symbols.
 */
#include <stdint.h>
#include "armsim_kernels.h"
#include "armsim_layout.h"

/** Conv2D + ReLU output, [24][24][F]. */
float armsim_conv_out[ARMSIM_CONV_OUT * ARMSIM_CONV_OUT * ARMSIM_FILTERS];
/** MaxPool output, [12][12][F]: the Keras flatten order. */
float armsim_pool_out[ARMSIM_POOLED * ARMSIM_POOLED * ARMSIM_FILTERS];
/** Dense output before softmax, [10]. */
float armsim_logits[ARMSIM_CLASSES];
/** Softmax probabilities, [10]. */
float armsim_output[ARMSIM_CLASSES];
/** Predicted class. */
int32_t armsim_predicted = -1;

void armsim_network_run(void)
{
    armsim_conv2d_relu_f32(ARMSIM_INPUT, ARMSIM_IMAGE, ARMSIM_IMAGE, ARMSIM_CONV_WEIGHTS,
                           ARMSIM_KERNEL, ARMSIM_CONV_BIAS, ARMSIM_FILTERS, armsim_conv_out);
    armsim_maxpool2d_f32(armsim_conv_out, ARMSIM_CONV_OUT, ARMSIM_CONV_OUT, ARMSIM_FILTERS,
                         ARMSIM_POOL, armsim_pool_out);
    armsim_fully_connected_f32(armsim_pool_out, ARMSIM_DENSE_WEIGHTS, ARMSIM_DENSE_BIAS,
                               ARMSIM_DENSE_IN, ARMSIM_CLASSES, armsim_logits);
    armsim_softmax_f32(armsim_logits, ARMSIM_CLASSES, armsim_output);
    armsim_predicted = armsim_argmax_f32(armsim_output, ARMSIM_CLASSES);
}

int main(void)
{
    armsim_network_run();
    return 0;
}
