/* FULLY_CONNECTED on CMSIS-NN: arm_fully_connected_s8 (per-tensor) or
 * arm_fully_connected_per_channel_s8. The kernel sums Helium builds need (bias + input offset *
 * row sums of the weights) were computed at code generation and are passed as the context
 * buffer, so no scratch and no run-time precomputation is needed. Where edgekit's kernel is the
 * faster one (EK_OWN_KERNELS_FIRST, ek_kernels.h), it runs instead. */
#define EK_REF_ONLY
#include "../portable/ek_fully_connected.c"

#if EK_OWN_KERNELS_FIRST
int ek_fully_connected_s8(const ek_fully_connected_params *p, const int8_t *in, int8_t *out,
                          ek_scratch scratch) {
  return ek_fully_connected_s8_ref(p, in, out, scratch);
}
#else
#include "arm_nnfunctions.h"

int ek_fully_connected_s8(const ek_fully_connected_params *p, const int8_t *in, int8_t *out,
                          ek_scratch scratch) {
  cmsis_nn_fc_params fc;
  cmsis_nn_context ctx;
  const cmsis_nn_dims in_dims = {p->batches, 1, 1, p->in_depth};
  const cmsis_nn_dims filter_dims = {p->in_depth, 1, 1, p->out_depth};
  const cmsis_nn_dims bias_dims = {1, 1, 1, p->out_depth};
  const cmsis_nn_dims out_dims = {p->batches, 1, 1, p->out_depth};
  arm_cmsis_nn_status status;
  (void)scratch;
  fc.input_offset = p->input_offset;
  fc.filter_offset = 0;
  fc.output_offset = p->output_offset;
  fc.activation.min = p->act_min;
  fc.activation.max = p->act_max;
  ctx.buf = (void *)(uintptr_t)p->bias_eff;
  ctx.size = p->out_depth * (int32_t)sizeof(int32_t);
  if (p->per_channel) {
    cmsis_nn_per_channel_quant_params qp;
    qp.multiplier = (int32_t *)(uintptr_t)p->mult;
    qp.shift = (int32_t *)(uintptr_t)p->shift;
    status = arm_fully_connected_per_channel_s8(&ctx, &fc, &qp, &in_dims, in, &filter_dims, p->weights,
                                                &bias_dims, p->bias, &out_dims, out);
  } else {
    cmsis_nn_per_tensor_quant_params qp;
    qp.multiplier = p->mult[0];
    qp.shift = p->shift[0];
    status = arm_fully_connected_s8(&ctx, &fc, &qp, &in_dims, in, &filter_dims, p->weights, &bias_dims,
                                    p->bias, &out_dims, out);
  }
  return status == ARM_CMSIS_NN_SUCCESS ? EK_OK : EK_ERR_BACKEND;
}
#endif
