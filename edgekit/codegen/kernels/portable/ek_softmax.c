/* SOFTMAX, int8 in, int8 out (scale 1/256, zero point -128) or int16 out (scale 1/65536, zero
 * point -32768), along the last dimension.
 * Fixed point as in TFLite: differences to the row maximum are scaled into Q5.26, exp() is
 * evaluated in fixed point, summed in Q12.19, the sum's reciprocal taken by Newton-Raphson. */
#include "ek_ops.h"

#define EK_SOFTMAX(NAME, OUT_T, OUT_BITS, OUT_MIN, OUT_MAX)                                          \
  EK_REF int NAME##_ref(const ek_softmax_params *p, const int8_t *in, OUT_T *out) {                      \
    int32_t r, c;                                                                                       \
    for (r = 0; r < p->rows; ++r) {                                                                     \
      const int8_t *x = in + (size_t)r * p->depth;                                                      \
      OUT_T *o = out + (size_t)r * p->depth;                                                            \
      int32_t max = INT8_MIN, sum = 0, headroom, bits_over_unit, shifted_scale, exponent;               \
      for (c = 0; c < p->depth; ++c) max = EK_MAX(max, (int32_t)x[c]);                                  \
      for (c = 0; c < p->depth; ++c) {                                                                  \
        const int32_t diff = (int32_t)x[c] - max;                                                       \
        if (diff >= p->diff_min) {                                                                      \
          const int32_t scaled = ek_srdhm(diff * (1 << p->input_left_shift), p->input_multiplier);      \
          sum += ek_rdbpot(ek_exp_on_negative_values(scaled, 5), 12);                                   \
        }                                                                                               \
      }                                                                                                 \
      headroom = ek_clz32((uint32_t)sum);                                                               \
      bits_over_unit = 12 - headroom;                                                                   \
      shifted_scale = ek_one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - (1u << 31)));      \
      exponent = bits_over_unit + 31 - (OUT_BITS);                                                      \
      for (c = 0; c < p->depth; ++c) {                                                                  \
        const int32_t diff = (int32_t)x[c] - max;                                                       \
        if (diff >= p->diff_min) {                                                                      \
          const int32_t scaled = ek_srdhm(diff * (1 << p->input_left_shift), p->input_multiplier);      \
          const int32_t e = ek_exp_on_negative_values(scaled, 5);                                       \
          const int32_t v = ek_rdbpot(ek_srdhm(shifted_scale, e), exponent) + (OUT_MIN);                \
          o[c] = (OUT_T)EK_CLAMP(v, OUT_MIN, OUT_MAX);                                                  \
        } else {                                                                                        \
          o[c] = (OUT_T)(OUT_MIN);                                                                      \
        }                                                                                               \
      }                                                                                                 \
    }                                                                                                   \
    return EK_OK;                                                                                       \
  }

EK_SOFTMAX(ek_softmax_s8, int8_t, 8, INT8_MIN, INT8_MAX)
EK_SOFTMAX(ek_softmax_s8_s16, int16_t, 16, INT16_MIN, INT16_MAX)

#ifndef EK_REF_ONLY
int ek_softmax_s8(const ek_softmax_params *p, const int8_t *in, int8_t *out) {
  return ek_softmax_s8_ref(p, in, out);
}

int ek_softmax_s8_s16(const ek_softmax_params *p, const int8_t *in, int16_t *out) {
  return ek_softmax_s8_s16_ref(p, in, out);
}
#endif
