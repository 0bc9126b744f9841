/* SOFTMAX on CMSIS-NN: arm_softmax_s8 / arm_softmax_s8_s16 (as TFLite Micro's int8 softmax). */
#define EK_REF_ONLY
#include "../portable/ek_softmax.c"

#include "arm_nnfunctions.h"

int ek_softmax_s8(const ek_softmax_params *p, const int8_t *in, int8_t *out) {
  arm_softmax_s8(in, p->rows, p->depth, p->input_multiplier, p->input_left_shift, p->diff_min, out);
  return EK_OK;
}

int ek_softmax_s8_s16(const ek_softmax_params *p, const int8_t *in, int16_t *out) {
  arm_softmax_s8_s16(in, p->rows, p->depth, p->input_multiplier, p->input_left_shift, p->diff_min, out);
  return EK_OK;
}
