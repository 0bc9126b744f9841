/* MEAN over contiguous axes (e.g. the spatial axes of NHWC), int8: integer sum, minus the input
 * zero point times the count, requantized with the multiplier that TFLite folds 1/count into. */
#include "ek_ops.h"

EK_REF int ek_mean_s8_ref(const ek_mean_params *p, const int8_t *in, int8_t *out) {
  int32_t o, r, i;
  for (o = 0; o < p->outer; ++o) {
    for (i = 0; i < p->inner; ++i) {
      const int8_t *x = in + (size_t)o * p->reduce * p->inner + i;
      int32_t sum = 0, v;
      for (r = 0; r < p->reduce; ++r) sum += x[(size_t)r * p->inner];
      sum -= p->input_zero_point * p->reduce;
      v = ek_mbqm(sum, p->mult, p->shift) + p->output_zero_point;
      out[(size_t)o * p->inner + i] = (int8_t)EK_CLAMP(v, -128, 127);
    }
  }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_mean_s8(const ek_mean_params *p, const int8_t *in, int8_t *out) { return ek_mean_s8_ref(p, in, out); }
#endif
