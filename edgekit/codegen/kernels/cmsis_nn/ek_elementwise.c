/* ADD / MUL on CMSIS-NN: arm_elementwise_add_s8 / arm_elementwise_mul_s8 for same-shape inputs;
 * broadcasting layers use edgekit's kernel (CMSIS-NN's element-wise kernels do not broadcast). */
#define EK_REF_ONLY
#include "../portable/ek_elementwise.c"

#include "arm_nnfunctions.h"

int ek_add_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
  if (p->broadcast) return ek_add_s8_ref(p, a, b, out);
  return arm_elementwise_add_s8(a, b, p->input1_offset, p->input1_mult, p->input1_shift, p->input2_offset,
                                p->input2_mult, p->input2_shift, p->left_shift, out, p->output_offset,
                                p->output_mult, p->output_shift, p->act_min, p->act_max,
                                p->size) == ARM_CMSIS_NN_SUCCESS
             ? EK_OK
             : EK_ERR_BACKEND;
}

int ek_mul_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
  if (p->broadcast) return ek_mul_s8_ref(p, a, b, out);
  return arm_elementwise_mul_s8(a, b, p->input1_offset, p->input2_offset, out, p->output_offset,
                                p->output_mult, p->output_shift, p->act_min, p->act_max,
                                p->size) == ARM_CMSIS_NN_SUCCESS
             ? EK_OK
             : EK_ERR_BACKEND;
}
