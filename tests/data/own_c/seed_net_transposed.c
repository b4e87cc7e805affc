/* The same network with a layout bug: the dense weights read as Keras stores them,
 * dense[k][c] at k*10 + c, instead of the seed layout's W2[c*K + k]. */
#define DENSE_W(k, c) DENSE_WEIGHTS[(k) * MODEL_OUTPUT_COUNT + (c)]
#include "seed_net.c"
