/** @file armsim_nn_support.h  @brief Small inline helpers shared by the kernels. */
#ifndef ARMSIM_NN_SUPPORT_H
#define ARMSIM_NN_SUPPORT_H

#include "armsim_nn.h"

/** Limit x to [c->min, c->max]; NaN passes through unchanged. */
static inline float armsim_clampf(float x, const armsim_clamp *c)
{
    if (x < c->min) {
        return c->min;
    }
    if (x > c->max) {
        return c->max;
    }
    return x;
}

/**
 * Taps k in [*lo, *hi) of a window starting at input position `start` (dilation `dil`,
 * `k` taps) that fall inside [0, size).
 */
static inline void armsim_tap_range(int32_t start, int32_t dil, int32_t k, int32_t size,
                                    int32_t *lo, int32_t *hi)
{
    int32_t a = 0;
    if (start < 0) {
        a = (-start + dil - 1) / dil;
    }
    int32_t b = k;
    if (start + (k - 1) * dil >= size) {
        b = (size - start + dil - 1) / dil;
    }
    *lo = a;
    *hi = b > a ? b : a;
}

/** The input cells [*lo, *hi) of pooling window `index` along one axis (padding excluded). */
static inline void armsim_window(int32_t index, int32_t stride, int32_t pad, int32_t window,
                                 int32_t size, int32_t *lo, int32_t *hi)
{
    const int32_t start = index * stride - pad;
    *lo = start < 0 ? 0 : start;
    *hi = start + window > size ? size : start + window;
}

#endif /* ARMSIM_NN_SUPPORT_H */
