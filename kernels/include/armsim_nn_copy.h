/**
 * @file armsim_nn_copy.h
 * @brief armsim's data-movement kernel, shared by the float32 and int8 builds: a strided
 * gather of elements of any size, which the shape ops are made of (broadcasting an operand,
 * TRANSPOSE, SLICE/STRIDED_SLICE, SPLIT, UNPACK, TILE, GATHER on constant indices).
 *
 * The output is written densely in C order over @p dims; element (i0, ..., i5) of it is
 * read at input element sum(ik * strides[k]) (a stride may be 0: a broadcast axis, or
 * negative: a reversed one). Unused leading axes have dimension 1. The host computes the
 * dimensions and strides from the graph (armsim/ops/_copy.py).
 */
#ifndef ARMSIM_NN_COPY_H
#define ARMSIM_NN_COPY_H

#include <stdint.h>

/** The most axes a gather walks. */
#define ARMSIM_GATHER_AXES 6

/**
 * @brief Strided gather: out[i0..i5] = in[sum(ik * strides[k])].
 * @param[in]  input     first input element of the walk
 * @param[in]  elem_size bytes per element: 1, 2 or 4
 * @param[in]  dims      output dimensions, ARMSIM_GATHER_AXES of them, outermost first
 * @param[in]  strides   input stride of each axis, in elements
 * @param[out] output    dense output (must not overlap the input)
 */
void armsim_gather(const void *input, int32_t elem_size, const int32_t *dims,
                   const int32_t *strides, void *output);

#endif
