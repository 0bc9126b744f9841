/* AVERAGE_POOL_2D / MAX_POOL_2D on CMSIS-NN: arm_avgpool_s8 / arm_max_pool_s8. */
#define EK_REF_ONLY
#include "../portable/ek_pool.c"

#include "arm_nnfunctions.h"

static void ek_pool_cmsis_args(const ek_pool_params *p, cmsis_nn_pool_params *pp, cmsis_nn_dims *in_dims,
                               cmsis_nn_dims *filter_dims, cmsis_nn_dims *out_dims) {
  pp->stride.h = p->stride_h;
  pp->stride.w = p->stride_w;
  pp->padding.h = p->pad_h;
  pp->padding.w = p->pad_w;
  pp->activation.min = p->act_min;
  pp->activation.max = p->act_max;
  in_dims->n = p->batches;
  in_dims->h = p->in_h;
  in_dims->w = p->in_w;
  in_dims->c = p->ch;
  filter_dims->n = 1;
  filter_dims->h = p->k_h;
  filter_dims->w = p->k_w;
  filter_dims->c = 1;
  out_dims->n = p->batches;
  out_dims->h = p->out_h;
  out_dims->w = p->out_w;
  out_dims->c = p->ch;
}

int ek_avg_pool_s8(const ek_pool_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  cmsis_nn_pool_params pp;
  cmsis_nn_dims in_dims, filter_dims, out_dims;
  cmsis_nn_context ctx;
  const int32_t need = arm_avgpool_s8_get_buffer_size(p->out_w, p->ch);
  if (need > scratch.bytes) return EK_ERR_SCRATCH;
  ek_pool_cmsis_args(p, &pp, &in_dims, &filter_dims, &out_dims);
  ctx.buf = need > 0 ? scratch.buf : NULL;
  ctx.size = need;
  return arm_avgpool_s8(&ctx, &pp, &in_dims, in, &filter_dims, &out_dims, out) == ARM_CMSIS_NN_SUCCESS
             ? EK_OK
             : EK_ERR_BACKEND;
}

int ek_max_pool_s8(const ek_pool_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  cmsis_nn_pool_params pp;
  cmsis_nn_dims in_dims, filter_dims, out_dims;
  cmsis_nn_context ctx;
  (void)scratch;
  ek_pool_cmsis_args(p, &pp, &in_dims, &filter_dims, &out_dims);
  ctx.buf = NULL;
  ctx.size = 0;
  return arm_max_pool_s8(&ctx, &pp, &in_dims, in, &filter_dims, &out_dims, out) == ARM_CMSIS_NN_SUCCESS
             ? EK_OK
             : EK_ERR_BACKEND;
}
