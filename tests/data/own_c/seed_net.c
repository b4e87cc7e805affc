/* A hand-written seed CNN (conv 5x5 + ReLU, 2x2 max pool, dense + softmax) reading the seed
 * layout through model_layout.h: its own loops and names, as a user would write it. */
#include <math.h>
#include "model_layout.h"

#define NF CONV_BIAS_COUNT
#define SIDE 28
#define CONV_SIDE 24
#define POOL_SIDE 12
#define FLAT (POOL_SIDE * POOL_SIDE * NF)

#ifndef DENSE_W
/* W2[c*K + k] = dense[k][c] */
#define DENSE_W(k, c) DENSE_WEIGHTS[(c) * FLAT + (k)]
#endif

static float feature[CONV_SIDE][CONV_SIDE][NF];
static float pooled[FLAT];
float output[MODEL_OUTPUT_COUNT];

static float pixel(int row, int col)
{
    return INPUT[col * SIDE + row]; /* IN[x*28 + y] = image[y][x] */
}

void network_run(void)
{
    for (int f = 0; f < NF; f++) {
        for (int r = 0; r < CONV_SIDE; r++) {
            for (int c = 0; c < CONV_SIDE; c++) {
                float acc = CONV_BIAS[f];
                for (int i = 0; i < 5; i++) {
                    for (int j = 0; j < 5; j++) {
                        acc += pixel(r + i, c + j) * CONV_WEIGHTS[f * 25 + j * 5 + i];
                    }
                }
                feature[r][c][f] = acc > 0.0f ? acc : 0.0f;
            }
        }
    }
    for (int r = 0; r < POOL_SIDE; r++) {
        for (int c = 0; c < POOL_SIDE; c++) {
            for (int f = 0; f < NF; f++) {
                float m = feature[2 * r][2 * c][f];
                m = fmaxf(m, feature[2 * r][2 * c + 1][f]);
                m = fmaxf(m, feature[2 * r + 1][2 * c][f]);
                m = fmaxf(m, feature[2 * r + 1][2 * c + 1][f]);
                pooled[(r * POOL_SIDE + c) * NF + f] = m;
            }
        }
    }
    float top = -INFINITY;
    for (int c = 0; c < MODEL_OUTPUT_COUNT; c++) {
        float z = DENSE_BIAS[c];
        for (int k = 0; k < FLAT; k++) {
            z += pooled[k] * DENSE_W(k, c);
        }
        output[c] = z;
        top = fmaxf(top, z);
    }
    float sum = 0.0f;
    for (int c = 0; c < MODEL_OUTPUT_COUNT; c++) {
        output[c] = expf(output[c] - top);
        sum += output[c];
    }
    for (int c = 0; c < MODEL_OUTPUT_COUNT; c++) {
        output[c] /= sum;
    }
}
