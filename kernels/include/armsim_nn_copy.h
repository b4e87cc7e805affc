/**
 * @file armsim_nn_copy.h
 * @brief armsim's data-movement kernel, shared by the float32 and int8 builds: a strided
 * copy of elements of any size, which the shape ops are made of (broadcasting an operand,
 * TRANSPOSE, SLICE/STRIDED_SLICE, SPLIT, UNPACK, TILE, GATHER on constant indices, PACK).
 *
 * Element (i0, ..., i5) of the walk over @p dims is read at input element
 * sum(ik * in_strides[k]) and written at output element sum(ik * out_strides[k]) (an input
 * stride may be 0: a broadcast axis, or negative: a reversed one). Unused leading axes have
 * dimension 1. The host computes the dimensions and strides from the graph and the plan's
 * layouts (armsim/ops/_copy.py).
 */
#ifndef ARMSIM_NN_COPY_H
#define ARMSIM_NN_COPY_H

#include <stdint.h>

/** The most axes a copy walks. */
#define ARMSIM_GATHER_AXES 6

/**
 * @brief Strided copy: out[sum(ik * out_strides[k])] = in[sum(ik * in_strides[k])].
 * @param[in]  input       first input element of the walk
 * @param[in]  elem_size   bytes per element: 1, 2 or 4
 * @param[in]  dims        the walk's dimensions, ARMSIM_GATHER_AXES of them, outermost first
 * @param[in]  in_strides  input stride of each axis, in elements
 * @param[out] output      first output element of the walk (must not overlap the input)
 * @param[in]  out_strides output stride of each axis, in elements
 */
void armsim_gather(const void *input, int32_t elem_size, const int32_t *dims,
                   const int32_t *in_strides, void *output, const int32_t *out_strides);

/**
 * @brief Nearest-neighbour resize: out[y][x][c] = in[ys[y]][xs[x]][c] (TFLite's
 * RESIZE_NEAREST_NEIGHBOR; the host computes the tables with its rounding rules).
 * @param[in]  input     [H][in_w][channels]
 * @param[in]  elem_size bytes per element: 1, 2 or 4
 * @param[in]  ys        input row of each output row
 * @param[in]  xs        input column of each output column
 * @param[out] output    [out_h][out_w][channels]
 */
void armsim_resize_nearest(const void *input, int32_t elem_size, int32_t in_w,
                           int32_t channels, int32_t out_h, int32_t out_w, const int32_t *ys,
                           const int32_t *xs, void *output);

#endif
