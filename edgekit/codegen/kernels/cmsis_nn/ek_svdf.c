/* SVDF on CMSIS-NN: arm_svdf_s8 (int8 state) and arm_svdf_state_s16_s8 (int16 state), the state
 * being the generated library's persistent buffer. CMSIS-NN assumes a state zero point of 0 (it
 * neither adds it to the new entry nor subtracts it in the time product, which TensorFlow Lite
 * Micro's reference does): a state with another zero point runs with the portable kernel, so
 * results stay those of TFLite Micro. The new state entries are clamped to the state type as the
 * reference does. Scratch: two int32 buffers (filters and units per batch). */
#define EK_REF_ONLY
#include "../portable/ek_svdf.c"

#include "arm_nnfunctions.h"

static int ek_cmsis_svdf_setup(const ek_svdf_params *p, ek_scratch scratch, int32_t lo, int32_t hi,
                               cmsis_nn_context *a, cmsis_nn_context *b, cmsis_nn_svdf_params *sp,
                               cmsis_nn_per_tensor_quant_params *q1, cmsis_nn_per_tensor_quant_params *q2) {
  const int32_t a_bytes = p->batches * p->filters * (int32_t)sizeof(int32_t);
  const int32_t b_bytes = p->batches * p->units * (int32_t)sizeof(int32_t);
  if (scratch.bytes < a_bytes + b_bytes) return EK_ERR_SCRATCH;
  a->buf = scratch.buf;
  a->size = a_bytes;
  b->buf = (int8_t *)scratch.buf + a_bytes;
  b->size = b_bytes;
  sp->rank = p->rank;
  sp->input_offset = -p->input_offset; /* CMSIS-NN takes the zero points themselves */
  sp->output_offset = p->output_offset;
  sp->input_activation.min = lo;
  sp->input_activation.max = hi;
  sp->output_activation.min = INT8_MIN;
  sp->output_activation.max = INT8_MAX;
  q1->multiplier = p->feature_mult;
  q1->shift = p->feature_shift;
  q2->multiplier = p->output_mult;
  q2->shift = p->output_shift;
  return EK_OK;
}

int ek_svdf_s8(const ek_svdf_params *p, const int8_t *in, int8_t *state, int8_t *out, ek_scratch scratch) {
  cmsis_nn_context ctx, a, b;
  cmsis_nn_svdf_params sp;
  cmsis_nn_per_tensor_quant_params q1, q2;
  const cmsis_nn_dims in_dims = {p->batches, p->input_size, 1, 1};
  const cmsis_nn_dims state_dims = {p->batches, p->filters * p->memory, 1, 1};
  const cmsis_nn_dims wf_dims = {p->filters, p->input_size, 1, 1};
  const cmsis_nn_dims wt_dims = {p->filters, p->memory, 1, 1};
  const cmsis_nn_dims bias_dims = {p->units, 1, 1, 1};
  const cmsis_nn_dims out_dims = {p->batches, p->units, 1, 1};
  int rc;
  if (p->state_zero_point != 0) return ek_svdf_s8_ref(p, in, state, out, scratch);
  rc = ek_cmsis_svdf_setup(p, scratch, INT8_MIN, INT8_MAX, &a, &b, &sp, &q1, &q2);
  if (rc != EK_OK) return rc;
  ctx.buf = (void *)(uintptr_t)p->kernel_sum;
  ctx.size = p->filters * (int32_t)sizeof(int32_t);
  return arm_svdf_s8(&ctx, &a, &b, &sp, &q1, &q2, &in_dims, in, &state_dims, state, &wf_dims, p->feature_weights,
                     &wt_dims, (const int8_t *)p->time_weights, &bias_dims, p->bias, &out_dims,
                     out) == ARM_CMSIS_NN_SUCCESS ? EK_OK : EK_ERR_BACKEND;
}

int ek_svdf_s8_s16(const ek_svdf_params *p, const int8_t *in, int16_t *state, int8_t *out, ek_scratch scratch) {
  cmsis_nn_context a, b;
  cmsis_nn_svdf_params sp;
  cmsis_nn_per_tensor_quant_params q1, q2;
  const cmsis_nn_dims in_dims = {p->batches, p->input_size, 1, 1};
  const cmsis_nn_dims state_dims = {p->batches, p->filters * p->memory, 1, 1};
  const cmsis_nn_dims wf_dims = {p->filters, p->input_size, 1, 1};
  const cmsis_nn_dims wt_dims = {p->filters, p->memory, 1, 1};
  const cmsis_nn_dims bias_dims = {p->units, 1, 1, 1};
  const cmsis_nn_dims out_dims = {p->batches, p->units, 1, 1};
  int rc;
  if (p->state_zero_point != 0) return ek_svdf_s8_s16_ref(p, in, state, out, scratch);
  rc = ek_cmsis_svdf_setup(p, scratch, INT16_MIN, INT16_MAX, &a, &b, &sp, &q1, &q2);
  if (rc != EK_OK) return rc;
  return arm_svdf_state_s16_s8(&a, &b, &sp, &q1, &q2, &in_dims, in, &state_dims, state, &wf_dims,
                               p->feature_weights, &wt_dims, (const int16_t *)p->time_weights, &bias_dims,
                               p->bias, &out_dims, out) == ARM_CMSIS_NN_SUCCESS ? EK_OK : EK_ERR_BACKEND;
}
