/* SOFTMAX, int8 in, int8 out (scale 1/256, zero point -128), along the last dimension.
 * Fixed point as in TFLite: differences to the row maximum are scaled into Q5.26, exp() is
 * evaluated in fixed point, summed in Q12.19, the sum's reciprocal taken by Newton-Raphson. */
#include "ek_ops.h"

EK_REF int ek_softmax_s8_ref(const ek_softmax_params *p, const int8_t *in, int8_t *out) {
  int32_t r, c;
  for (r = 0; r < p->rows; ++r) {
    const int8_t *x = in + (size_t)r * p->depth;
    int8_t *o = out + (size_t)r * p->depth;
    int32_t max = INT8_MIN, sum = 0, headroom, bits_over_unit, shifted_scale, exponent;
    for (c = 0; c < p->depth; ++c) max = EK_MAX(max, (int32_t)x[c]);
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)x[c] - max;
      if (diff >= p->diff_min) {
        const int32_t scaled = ek_srdhm(diff * (1 << p->input_left_shift), p->input_multiplier);
        sum += ek_rdbpot(ek_exp_on_negative_values(scaled, 5), 12);
      }
    }
    headroom = ek_clz32((uint32_t)sum);
    bits_over_unit = 12 - headroom;
    shifted_scale = ek_one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - (1u << 31)));
    exponent = bits_over_unit + 31 - 8;
    for (c = 0; c < p->depth; ++c) {
      const int32_t diff = (int32_t)x[c] - max;
      if (diff >= p->diff_min) {
        const int32_t scaled = ek_srdhm(diff * (1 << p->input_left_shift), p->input_multiplier);
        const int32_t e = ek_exp_on_negative_values(scaled, 5);
        const int32_t v = ek_rdbpot(ek_srdhm(shifted_scale, e), exponent) - 128;
        o[c] = (int8_t)EK_CLAMP(v, -128, 127);
      } else {
        o[c] = INT8_MIN;
      }
    }
  }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_softmax_s8(const ek_softmax_params *p, const int8_t *in, int8_t *out) {
  return ek_softmax_s8_ref(p, in, out);
}
#endif
