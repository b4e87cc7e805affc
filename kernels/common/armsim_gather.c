/** @file armsim_gather.c  @brief Strided copy of 1-, 2- or 4-byte elements (shape ops). */
#include "armsim_nn_copy.h"

#define ARMSIM_GATHER_LOOP(T)                                                              \
    do {                                                                                   \
        const T *in = (const T *)input;                                                    \
        T *out = (T *)output;                                                              \
        const int32_t s = in_strides[5], o = out_strides[5];                               \
        for (int32_t a = 0; a < dims[0]; a++) {                                            \
            for (int32_t b = 0; b < dims[1]; b++) {                                        \
                for (int32_t c = 0; c < dims[2]; c++) {                                    \
                    for (int32_t d = 0; d < dims[3]; d++) {                                \
                        for (int32_t e = 0; e < dims[4]; e++) {                            \
                            const T *p = in + a * in_strides[0] + b * in_strides[1] +      \
                                         c * in_strides[2] + d * in_strides[3] +           \
                                         e * in_strides[4];                                \
                            T *q = out + a * out_strides[0] + b * out_strides[1] +         \
                                   c * out_strides[2] + d * out_strides[3] +               \
                                   e * out_strides[4];                                     \
                            for (int32_t f = 0; f < dims[5]; f++) {                        \
                                q[f * o] = p[f * s];                                       \
                            }                                                              \
                        }                                                                  \
                    }                                                                      \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
    } while (0)

void armsim_gather(const void *input, int32_t elem_size, const int32_t *dims,
                   const int32_t *in_strides, void *output, const int32_t *out_strides)
{
    if (elem_size == 4) {
        ARMSIM_GATHER_LOOP(uint32_t);
    } else if (elem_size == 2) {
        ARMSIM_GATHER_LOOP(uint16_t);
    } else {
        ARMSIM_GATHER_LOOP(uint8_t);
    }
}
