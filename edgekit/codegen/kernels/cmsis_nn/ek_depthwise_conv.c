/* DEPTHWISE_CONV_2D on CMSIS-NN: arm_depthwise_conv_wrapper_s8. Where edgekit's kernel is the
 * faster one (EK_OWN_KERNELS_FIRST, ek_kernels.h), it runs instead.
 *
 * In place (out == in; CMSIS-NN has no in-place depthwise convolution), by rows (inplace_rows > 0):
 * bands of output rows are computed by the arm_* kernel from the input rows they read (still in
 * place) into scratch, and each row is copied to its place once no later output row reads the
 * input bytes it covers (the schedule of the portable kernel). Channel by channel
 * (inplace_rows == 0) has no CMSIS-NN equivalent and runs edgekit's kernel. */
#define EK_REF_ONLY
#include "../portable/ek_depthwise_conv.c"

#if EK_OWN_KERNELS_FIRST
int ek_depthwise_conv_s8(const ek_depthwise_conv_params *p, const int8_t *in, int8_t *out,
                         ek_scratch scratch) {
  return ek_depthwise_conv_s8_ref(p, in, out, scratch);
}
#else
#include "arm_nnfunctions.h"

static void ek_dw_cmsis_args(const ek_depthwise_conv_params *p, cmsis_nn_dw_conv_params *cp,
                             cmsis_nn_per_channel_quant_params *qp) {
  cp->input_offset = p->input_offset;
  cp->output_offset = p->output_offset;
  cp->ch_mult = p->depth_mult;
  cp->stride.h = p->stride_h;
  cp->stride.w = p->stride_w;
  cp->padding.h = p->pad_h;
  cp->padding.w = p->pad_w;
  cp->dilation.h = p->dil_h;
  cp->dilation.w = p->dil_w;
  cp->activation.min = p->act_min;
  cp->activation.max = p->act_max;
  qp->multiplier = (int32_t *)(uintptr_t)p->mult;
  qp->shift = (int32_t *)(uintptr_t)p->shift;
}

static int ek_dw_cmsis_call(const ek_depthwise_conv_params *p, const cmsis_nn_dw_conv_params *cp,
                            const cmsis_nn_per_channel_quant_params *qp, const cmsis_nn_dims *in_dims,
                            const int8_t *in, const cmsis_nn_dims *out_dims, int8_t *out, void *buf,
                            int32_t reserve) {
  const cmsis_nn_dims filter_dims = {1, p->k_h, p->k_w, p->out_c};
  const cmsis_nn_dims bias_dims = {1, 1, 1, p->out_c};
  cmsis_nn_context ctx;
  const int32_t need = arm_depthwise_conv_wrapper_s8_get_buffer_size(cp, in_dims, &filter_dims, out_dims);
  if (need > reserve) return EK_ERR_SCRATCH;
  ctx.buf = need > 0 ? buf : NULL;
  ctx.size = need;
  return arm_depthwise_conv_wrapper_s8(&ctx, cp, qp, in_dims, in, &filter_dims, p->weights, &bias_dims, p->bias,
                                       out_dims, out) == ARM_CMSIS_NN_SUCCESS
             ? EK_OK
             : EK_ERR_BACKEND;
}

static int ek_dw_cmsis_rows_inplace(const ek_depthwise_conv_params *p, int8_t *data, ek_scratch scratch) {
  const size_t orow = (size_t)p->out_w * p->out_c, irow = (size_t)p->in_w * p->in_c;
  const int32_t span = (p->k_h - 1) * p->dil_h + 1;
  cmsis_nn_dw_conv_params cp;
  cmsis_nn_per_channel_quant_params qp;
  int32_t reserve, cap, r = 0, flushed = 0;
  int8_t *rows;
  ek_dw_cmsis_args(p, &cp, &qp);
  {
    const cmsis_nn_dims filter_dims = {1, p->k_h, p->k_w, p->out_c};
    const cmsis_nn_dims in_all = {1, p->in_h, p->in_w, p->in_c}, out1 = {1, 1, p->out_w, p->out_c};
    reserve = (arm_depthwise_conv_wrapper_s8_get_buffer_size(&cp, &in_all, &filter_dims, &out1) + 3) & ~3;
  }
  cap = scratch.bytes < reserve ? 0 : (int32_t)((size_t)(scratch.bytes - reserve) / orow);
  if (cap < p->inplace_rows) return ek_depthwise_conv_s8_ref(p, data, data, scratch);
  rows = (int8_t *)scratch.buf + reserve;
  while (r < p->out_h) {
    const int32_t held = r - flushed;
    const int32_t n = EK_MIN(cap - held, p->out_h - r);
    const int32_t top = r * p->stride_h - p->pad_h;
    const int32_t first = EK_MAX(0, top);
    const int32_t last = EK_MIN(p->in_h, (r + n - 1) * p->stride_h - p->pad_h + span);
    const cmsis_nn_dims in_dims = {1, last - first, p->in_w, p->in_c}, out_dims = {1, n, p->out_w, p->out_c};
    int rc;
    if (n < 1) return EK_ERR_SCRATCH;
    cp.padding.h = first - top;
    rc = ek_dw_cmsis_call(p, &cp, &qp, &in_dims, data + (size_t)first * irow, &out_dims, rows + (size_t)held * orow,
                          scratch.buf, reserve);
    if (rc != EK_OK) return rc;
    r += n;
    flushed = ek_flush_rows(data, rows, flushed, r, p->out_h, p->stride_h, p->pad_h, orow, irow);
  }
  return EK_OK;
}

int ek_depthwise_conv_s8(const ek_depthwise_conv_params *p, const int8_t *in, int8_t *out,
                         ek_scratch scratch) {
  cmsis_nn_dw_conv_params cp;
  cmsis_nn_per_channel_quant_params qp;
  const cmsis_nn_dims in_dims = {p->batches, p->in_h, p->in_w, p->in_c};
  const cmsis_nn_dims out_dims = {p->batches, p->out_h, p->out_w, p->out_c};
  if ((const int8_t *)out == in) {
    if (p->depth_mult != 1 || p->batches != 1) return EK_ERR_BACKEND;
    if (p->inplace_rows <= 0) return ek_depthwise_conv_s8_ref(p, in, out, scratch);
    return ek_dw_cmsis_rows_inplace(p, out, scratch);
  }
  ek_dw_cmsis_args(p, &cp, &qp);
  return ek_dw_cmsis_call(p, &cp, &qp, &in_dims, in, &out_dims, out, scratch.buf, scratch.bytes);
}
#endif
