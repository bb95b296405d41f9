/* mlp.c - the SwiGLU elementwise part of the Llama MLP (see mlp.h). */
#include <math.h>

#include "llamaref/mlp.h"

void lr_swiglu_forward(lr_float *act, const lr_float *gate,
                       const lr_float *up, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double g = (double)gate[i];
        act[i] = (lr_float)(g / (1.0 + exp(-g))) * up[i];
    }
}
