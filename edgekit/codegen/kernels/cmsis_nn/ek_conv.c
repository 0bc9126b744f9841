/* CONV_2D on CMSIS-NN: arm_convolve_wrapper_s8 with the per-channel multipliers and shifts
 * precomputed at code generation. The scratch planned on the host is checked against what this
 * build of CMSIS-NN asks for; too little fails with EK_ERR_SCRATCH instead of corrupting memory.
 * Where edgekit's kernel is the faster one (EK_OWN_KERNELS_FIRST, ek_kernels.h), it runs instead.
 *
 * In place (out == in; CMSIS-NN has no in-place convolution), the arm_* kernel runs on bands:
 * - 1x1 unit stride: a band of pixels is copied to scratch and convolved from there straight to
 *   its place (forward when out_c <= in_c, backward otherwise: an output band only covers input
 *   pixels already consumed). The band is as many pixels as the scratch holds.
 * - other kernels: bands of output rows are computed from the input rows they read (still in
 *   place) into scratch, and each row is copied to its place once no later output row reads the
 *   input bytes it covers (the schedule of the portable kernel, see inplace_rows). */
#define EK_REF_ONLY
#include "../portable/ek_conv.c"

#if EK_OWN_KERNELS_FIRST
int ek_conv_s8(const ek_conv_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  return ek_conv_s8_ref(p, in, out, scratch);
}
#else
#include "arm_nnfunctions.h"

static void ek_conv_cmsis_args(const ek_conv_params *p, cmsis_nn_conv_params *cp,
                               cmsis_nn_per_channel_quant_params *qp) {
  cp->input_offset = p->input_offset;
  cp->output_offset = p->output_offset;
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

/* One call of the wrapper; its buffer at the start of scratch (at most `reserve` bytes). */
static int ek_conv_cmsis_call(const ek_conv_params *p, const cmsis_nn_conv_params *cp,
                              const cmsis_nn_per_channel_quant_params *qp, const cmsis_nn_dims *in_dims,
                              const int8_t *in, const cmsis_nn_dims *out_dims, int8_t *out, void *buf,
                              int32_t reserve) {
  const cmsis_nn_dims filter_dims = {p->out_c, p->k_h, p->k_w, p->in_c};
  const cmsis_nn_dims bias_dims = {1, 1, 1, p->out_c};
  cmsis_nn_context ctx;
  const int32_t need = arm_convolve_wrapper_s8_get_buffer_size(cp, in_dims, &filter_dims, out_dims);
  if (need > reserve) return EK_ERR_SCRATCH;
  ctx.buf = need > 0 ? buf : NULL;
  ctx.size = need;
  return arm_convolve_wrapper_s8(&ctx, cp, qp, in_dims, in, &filter_dims, p->weights, &bias_dims, p->bias, out_dims,
                                 out) == ARM_CMSIS_NN_SUCCESS
             ? EK_OK
             : EK_ERR_BACKEND;
}

static int32_t ek_align4(int32_t n) { return (n + 3) & ~3; }

static int ek_conv_cmsis_pointwise_inplace(const ek_conv_params *p, int8_t *data, ek_scratch scratch) {
  const int32_t pixels = p->batches * p->in_h * p->in_w;
  const cmsis_nn_dims one = {1, 1, 1, p->in_c}, one_out = {1, 1, 1, p->out_c};
  cmsis_nn_conv_params cp;
  cmsis_nn_per_channel_quant_params qp;
  int32_t reserve, band, done;
  int8_t *x;
  ek_conv_cmsis_args(p, &cp, &qp);
  {
    const cmsis_nn_dims filter_dims = {p->out_c, 1, 1, p->in_c};
    reserve = ek_align4(arm_convolve_wrapper_s8_get_buffer_size(&cp, &one, &filter_dims, &one_out));
  }
  band = (scratch.bytes - reserve) / p->in_c;
  if (band < 1) return ek_conv_s8_ref(p, data, data, scratch);
  band = EK_MIN(band, pixels);
  if (band > 1) band &= ~1; /* CMSIS-NN's matrix kernels take pixels in pairs */
  x = (int8_t *)scratch.buf + reserve;
  for (done = 0; done < pixels;) {
    const int32_t n = EK_MIN(band, pixels - done);
    const int32_t first = p->out_c <= p->in_c ? done : pixels - done - n;
    const cmsis_nn_dims in_dims = {1, 1, n, p->in_c}, out_dims = {1, 1, n, p->out_c};
    int rc;
    memcpy(x, data + (size_t)first * p->in_c, (size_t)n * p->in_c);
    rc = ek_conv_cmsis_call(p, &cp, &qp, &in_dims, x, &out_dims, data + (size_t)first * p->out_c, scratch.buf,
                            reserve);
    if (rc != EK_OK) return rc;
    done += n;
  }
  return EK_OK;
}

static int ek_conv_cmsis_rows_inplace(const ek_conv_params *p, int8_t *data, ek_scratch scratch) {
  const size_t orow = (size_t)p->out_w * p->out_c, irow = (size_t)p->in_w * p->in_c;
  const int32_t span = (p->k_h - 1) * p->dil_h + 1;
  cmsis_nn_conv_params cp;
  cmsis_nn_per_channel_quant_params qp;
  int32_t reserve, cap, r = 0, flushed = 0;
  int8_t *rows;
  if (p->batches != 1 || p->inplace_rows <= 0) return EK_ERR_BACKEND;
  ek_conv_cmsis_args(p, &cp, &qp);
  {
    /* a band of one input row takes CMSIS-NN's 1xN path, any other its general one */
    const cmsis_nn_dims filter_dims = {p->out_c, p->k_h, p->k_w, p->in_c};
    const cmsis_nn_dims in1 = {1, 1, p->in_w, p->in_c}, in_all = {1, p->in_h, p->in_w, p->in_c};
    const cmsis_nn_dims out1 = {1, 1, p->out_w, p->out_c};
    reserve = ek_align4(EK_MAX(arm_convolve_wrapper_s8_get_buffer_size(&cp, &in1, &filter_dims, &out1),
                               arm_convolve_wrapper_s8_get_buffer_size(&cp, &in_all, &filter_dims, &out1)));
  }
  cap = scratch.bytes < reserve ? 0 : (int32_t)((size_t)(scratch.bytes - reserve) / orow);
  if (cap < p->inplace_rows) return ek_conv_s8_ref(p, data, data, scratch);
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
    rc = ek_conv_cmsis_call(p, &cp, &qp, &in_dims, data + (size_t)first * irow, &out_dims, rows + (size_t)held * orow,
                            scratch.buf, reserve);
    if (rc != EK_OK) return rc;
    r += n;
    flushed = ek_flush_rows(data, rows, flushed, r, p->out_h, p->stride_h, p->pad_h, orow, irow);
  }
  return EK_OK;
}

int ek_conv_s8(const ek_conv_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  cmsis_nn_conv_params cp;
  cmsis_nn_per_channel_quant_params qp;
  const cmsis_nn_dims in_dims = {p->batches, p->in_h, p->in_w, p->in_c};
  const cmsis_nn_dims out_dims = {p->batches, p->out_h, p->out_w, p->out_c};
  if ((const int8_t *)out == in) {
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 &&
                          p->pad_w == 0;
    return pointwise ? ek_conv_cmsis_pointwise_inplace(p, out, scratch) : ek_conv_cmsis_rows_inplace(p, out, scratch);
  }
  ek_conv_cmsis_args(p, &cp, &qp);
  return ek_conv_cmsis_call(p, &cp, &qp, &in_dims, in, &out_dims, out, scratch.buf, scratch.bytes);
}
#endif
