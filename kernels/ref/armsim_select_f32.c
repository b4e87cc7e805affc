/** @file armsim_select_f32.c  @brief out[i] = (l[i] cmp r[i]) ? a[i] : b[i] (TFLite SELECT_V2 of
 *  a comparison). */
#include "armsim_nn.h"

static int holds(int32_t cmp, float l, float r)
{
    switch (cmp) {
    case 0: return l > r;
    case 1: return l >= r;
    case 2: return l < r;
    case 3: return l <= r;
    case 4: return l == r;
    default: return l != r;
    }
}

void armsim_select_f32(int32_t cmp, const float *l, const float *r, const float *a,
                       const float *b, int32_t n, float *out)
{
    for (int32_t i = 0; i < n; i++) {
        out[i] = holds(cmp, l[i], r[i]) ? a[i] : b[i];
    }
}
