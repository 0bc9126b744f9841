/* FULLY_CONNECTED, int8 activations, int8 weights [out_depth][in_depth] (symmetric), int32 bias.
 * acc = sum(w * x) + bias_eff[oc] (= bias + input_offset * sum(w[oc]), exact), requantized per channel with
 * TFLite's double rounding (per-tensor models repeat one multiplier), + output_offset, clamped.
 * With DSP instructions (EK_DSP), four output rows at a time share each word of the input
 * (ek_dot4_s8). */
#define EK_KERNEL_LOOPS
#include "ek_ops.h"

#define EK_FC_BLOCK 64

#if EK_DSP
EK_REF int ek_fully_connected_s8_ref(const ek_fully_connected_params *p, const int8_t *in, int8_t *out,
                                     ek_scratch scratch) {
  const int32_t n = p->in_depth;
  int32_t acc[EK_FC_BLOCK];
  int32_t b, c0, j;
  (void)scratch;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *x = in + (size_t)b * n;
    int8_t *o = out + (size_t)b * p->out_depth;
    for (c0 = 0; c0 < p->out_depth; c0 += EK_FC_BLOCK) {
      const int32_t m = EK_MIN(EK_FC_BLOCK, p->out_depth - c0);
      const int8_t *w = p->weights + (size_t)c0 * n;
      memcpy(acc, p->bias_eff + c0, (size_t)m * sizeof(int32_t));
      for (j = 0; j + 4 <= m; j += 4) ek_dot4_s8(x, w + (size_t)j * n, n, acc + j);
      for (; j < m; ++j) acc[j] = ek_dot1_s8(x, w + (size_t)j * n, n, acc[j]);
      ek_requant_run(acc, p->mult + c0, p->shift + c0, m, p->output_offset, p->act_min, p->act_max, o + c0);
    }
  }
  return EK_OK;
}
#else
EK_REF int ek_fully_connected_s8_ref(const ek_fully_connected_params *p, const int8_t *in, int8_t *out,
                                     ek_scratch scratch) {
  int32_t acc[EK_FC_BLOCK];
  int32_t b, c0, j, d;
  (void)scratch;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *x = in + (size_t)b * p->in_depth;
    int8_t *o = out + (size_t)b * p->out_depth;
    for (c0 = 0; c0 < p->out_depth; c0 += EK_FC_BLOCK) {
      const int32_t n = EK_MIN(EK_FC_BLOCK, p->out_depth - c0);
      for (j = 0; j < n; ++j) {
        const int8_t *w = p->weights + (size_t)(c0 + j) * p->in_depth;
        int32_t a = 0;
        for (d = 0; d < p->in_depth; ++d) a += (int32_t)x[d] * (int32_t)w[d];
        acc[j] = a + p->bias_eff[c0 + j];
      }
      ek_requantize_block(acc, p->mult + c0, p->shift + c0, n, p->output_offset, p->act_min, p->act_max, o + c0);
    }
  }
  return EK_OK;
}
#endif

#ifndef EK_REF_ONLY
int ek_fully_connected_s8(const ek_fully_connected_params *p, const int8_t *in, int8_t *out,
                          ek_scratch scratch) {
  return ek_fully_connected_s8_ref(p, in, out, scratch);
}
#endif
