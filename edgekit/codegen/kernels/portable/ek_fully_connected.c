/* FULLY_CONNECTED, int8 activations, int8 weights [out_depth][in_depth] (symmetric), int32 bias.
 * acc = sum(w * x) + bias_eff[oc] (= bias + input_offset * sum(w[oc]), exact), requantized per channel with
 * TFLite's double rounding (per-tensor models repeat one multiplier), + output_offset, clamped. */
#include "ek_ops.h"

#define EK_FC_BLOCK 64

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

#ifndef EK_REF_ONLY
int ek_fully_connected_s8(const ek_fully_connected_params *p, const int8_t *in, int8_t *out,
                          ek_scratch scratch) {
  return ek_fully_connected_s8_ref(p, in, out, scratch);
}
#endif
