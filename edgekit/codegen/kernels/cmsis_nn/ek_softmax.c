/* SOFTMAX on CMSIS-NN: arm_softmax_s8 (bit-exact with TFLite Micro's int8 softmax). */
#define EK_REF_ONLY
#include "../portable/ek_softmax.c"

#include "arm_nnfunctions.h"

int ek_softmax_s8(const ek_softmax_params *p, const int8_t *in, int8_t *out) {
  arm_softmax_s8(in, p->rows, p->depth, p->input_multiplier, p->input_left_shift, p->diff_min, out);
  return EK_OK;
}
