/* DEPTHWISE_CONV_2D on CMSIS-NN: arm_depthwise_conv_wrapper_s8. A layer the planner runs in
 * place (output over input) uses edgekit's in-place kernel instead: CMSIS-NN has none. */
#define EK_REF_ONLY
#include "../portable/ek_depthwise_conv.c"

#include "arm_nnfunctions.h"

int ek_depthwise_conv_s8(const ek_depthwise_conv_params *p, const int8_t *in, int8_t *out,
                         ek_scratch scratch) {
  cmsis_nn_dw_conv_params cp;
  cmsis_nn_per_channel_quant_params qp;
  cmsis_nn_context ctx;
  const cmsis_nn_dims in_dims = {p->batches, p->in_h, p->in_w, p->in_c};
  const cmsis_nn_dims filter_dims = {1, p->k_h, p->k_w, p->out_c};
  const cmsis_nn_dims bias_dims = {1, 1, 1, p->out_c};
  const cmsis_nn_dims out_dims = {p->batches, p->out_h, p->out_w, p->out_c};
  int32_t need;
  if ((const int8_t *)out == in) return ek_depthwise_conv_s8_ref(p, in, out, scratch);
  cp.input_offset = p->input_offset;
  cp.output_offset = p->output_offset;
  cp.ch_mult = p->depth_mult;
  cp.stride.h = p->stride_h;
  cp.stride.w = p->stride_w;
  cp.padding.h = p->pad_h;
  cp.padding.w = p->pad_w;
  cp.dilation.h = p->dil_h;
  cp.dilation.w = p->dil_w;
  cp.activation.min = p->act_min;
  cp.activation.max = p->act_max;
  qp.multiplier = (int32_t *)(uintptr_t)p->mult;
  qp.shift = (int32_t *)(uintptr_t)p->shift;
  need = arm_depthwise_conv_wrapper_s8_get_buffer_size(&cp, &in_dims, &filter_dims, &out_dims);
  if (need > scratch.bytes) return EK_ERR_SCRATCH;
  ctx.buf = need > 0 ? scratch.buf : NULL;
  ctx.size = need;
  if (arm_depthwise_conv_wrapper_s8(&ctx, &cp, &qp, &in_dims, in, &filter_dims, p->weights, &bias_dims,
                                    p->bias, &out_dims, out) != ARM_CMSIS_NN_SUCCESS) {
    return EK_ERR_BACKEND;
  }
  return EK_OK;
}
