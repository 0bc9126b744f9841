/* Standalone int8 activations with TFLite Micro's integer algorithms:
 * LOGISTIC (out scale 1/256, zp -128) and TANH (out scale 1/128, zp 0): input rescaled to Q4.27,
 * fixed-point logistic/tanh, rounded to 8 bits; inputs beyond the input radius saturate.
 * RELU: requantize then clamp at the quantized zero. RELU6: clamp in the input's quantization
 * (TFLite Micro does not requantize RELU6). HARD_SWISH: 16-bit fixed point as TFLite's reference.
 * All may run in place (element i reads only element i). */
#include "ek_ops.h"

EK_REF int ek_logistic_s8_ref(const ek_sigmoid_params *p, const int8_t *in, int8_t *out) {
  int32_t i;
  for (i = 0; i < p->size; ++i) {
    const int32_t x = (int32_t)in[i] - p->input_zero_point;
    if (x <= -p->input_range_radius) {
      out[i] = INT8_MIN;
    } else if (x >= p->input_range_radius) {
      out[i] = INT8_MAX;
    } else {
      const int32_t q4 = ek_mbqm(x, p->input_multiplier, p->input_left_shift);
      const int32_t v = ek_rdbpot(ek_logistic_q(q4, 4), 23) - 128;
      out[i] = (int8_t)EK_CLAMP(v, -128, 127);
    }
  }
  return EK_OK;
}

EK_REF int ek_tanh_s8_ref(const ek_sigmoid_params *p, const int8_t *in, int8_t *out) {
  int32_t i;
  for (i = 0; i < p->size; ++i) {
    const int32_t x = (int32_t)in[i] - p->input_zero_point;
    if (x <= -p->input_range_radius) {
      out[i] = INT8_MIN;
    } else if (x >= p->input_range_radius) {
      out[i] = INT8_MAX;
    } else {
      const int32_t q4 = ek_mbqm(x, p->input_multiplier, p->input_left_shift);
      const int32_t v = ek_rdbpot(ek_tanh_q(q4, 4), 24);
      out[i] = (int8_t)EK_CLAMP(v, -128, 127);
    }
  }
  return EK_OK;
}

EK_REF int ek_relu_s8_ref(const ek_relu_params *p, const int8_t *in, int8_t *out) {
  int32_t i;
  for (i = 0; i < p->size; ++i) {
    const int32_t v = p->output_offset + ek_mbqm((int32_t)in[i] - p->input_offset, p->mult, p->shift);
    out[i] = (int8_t)EK_CLAMP(v, p->act_min, p->act_max);
  }
  return EK_OK;
}

EK_REF int ek_relu6_s8_ref(const ek_relu_params *p, const int8_t *in, int8_t *out) {
  int32_t i;
  for (i = 0; i < p->size; ++i) {
    const int32_t v = in[i];
    out[i] = (int8_t)(v > p->act_max ? p->act_max : v < p->act_min ? p->act_min : v);
  }
  return EK_OK;
}

/* 16-bit helpers of the hard-swish reference (int16 wrap-around semantics kept explicit). */
static inline int16_t ek_srdhm16(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  {
    const int32_t ab = (int32_t)a * (int32_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
  }
}
static inline int16_t ek_dhm16_trunc(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}
static inline int16_t ek_sat_shl16(int16_t v, int32_t amount) {
  const int32_t r = (int32_t)v * (1 << amount);
  return (int16_t)EK_CLAMP(r, INT16_MIN, INT16_MAX);
}
static inline int16_t ek_rdbpot16(int16_t x, int32_t e) {
  const int16_t mask = (int16_t)((1 << e) - 1);
  const int16_t remainder = (int16_t)(x & mask);
  const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
  return (int16_t)((x >> e) + (remainder > threshold ? 1 : 0));
}

EK_REF int ek_hard_swish_s8_ref(const ek_hard_swish_params *p, const int8_t *in, int8_t *out) {
  int32_t i;
  for (i = 0; i < p->size; ++i) {
    const int16_t x = (int16_t)((int32_t)in[i] - p->input_zero_point);
    const int16_t hires = (int16_t)(x * (1 << 7));
    const int16_t preshift = ek_srdhm16(hires, (int16_t)p->output_multiplier_fp16);
    int16_t reluish = hires;
    int32_t v;
    if (p->reluish_exponent > 0) reluish = ek_sat_shl16(reluish, p->reluish_exponent - 1);
    reluish = ek_srdhm16(reluish, (int16_t)p->reluish_multiplier_fp16);
    if (p->reluish_exponent > 0) reluish = ek_sat_shl16(reluish, 1);
    if (p->reluish_exponent < 0) reluish = ek_rdbpot16(reluish, -p->reluish_exponent);
    reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
    v = ek_rdbpot16(ek_dhm16_trunc(reluish, preshift), -p->output_exponent);
    v = (int16_t)(v + p->output_zero_point);
    out[i] = (int8_t)EK_CLAMP(v, -128, 127);
  }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_logistic_s8(const ek_sigmoid_params *p, const int8_t *in, int8_t *out) {
  return ek_logistic_s8_ref(p, in, out);
}
int ek_tanh_s8(const ek_sigmoid_params *p, const int8_t *in, int8_t *out) {
  return ek_tanh_s8_ref(p, in, out);
}
int ek_relu_s8(const ek_relu_params *p, const int8_t *in, int8_t *out) {
  return ek_relu_s8_ref(p, in, out);
}
int ek_relu6_s8(const ek_relu_params *p, const int8_t *in, int8_t *out) {
  return ek_relu6_s8_ref(p, in, out);
}
int ek_hard_swish_s8(const ek_hard_swish_params *p, const int8_t *in, int8_t *out) {
  return ek_hard_swish_s8_ref(p, in, out);
}
#endif
