/* QUANTIZE and DEQUANTIZE at the graph edges and requantization between integer types.
 * float -> int: round(x / scale) (float32 division, ties away from zero) + zero point, clamped.
 * int -> int: (x - in_zp) * multiplier * 2^shift with TFLite's double rounding + out_zp, clamped.
 * int -> float: (float)(scale_as_double * (x - zp)). */
#include <math.h>

#include "ek_ops.h"

#define EK_QUANTIZE_FROM_FLOAT(NAME, OUT_T, LO, HI)                                  \
  int NAME(const ek_quantize_params *p, const float *in, OUT_T *out) {               \
    int32_t i;                                                                      \
    for (i = 0; i < p->size; ++i) {                                                 \
      const int32_t v = (int32_t)roundf(in[i] / p->scale) + p->output_zero_point;    \
      out[i] = (OUT_T)EK_CLAMP(v, LO, HI);                                          \
    }                                                                               \
    return EK_OK;                                                                   \
  }

#define EK_REQUANTIZE(NAME, IN_T, OUT_T, LO, HI)                                                 \
  int NAME(const ek_quantize_params *p, const IN_T *in, OUT_T *out) {                            \
    int32_t i;                                                                                  \
    for (i = 0; i < p->size; ++i) {                                                             \
      const int32_t v = ek_mbqm((int32_t)in[i] - p->input_zero_point, p->mult, p->shift) +       \
                        p->output_zero_point;                                                   \
      out[i] = (OUT_T)EK_CLAMP(v, LO, HI);                                                      \
    }                                                                                           \
    return EK_OK;                                                                               \
  }

#define EK_DEQUANTIZE(NAME, IN_T)                                                      \
  int NAME(const ek_quantize_params *p, const IN_T *in, float *out) {                  \
    int32_t i;                                                                        \
    for (i = 0; i < p->size; ++i) {                                                   \
      out[i] = (float)(p->dequant_scale * (double)((int32_t)in[i] - p->input_zero_point)); \
    }                                                                                 \
    return EK_OK;                                                                     \
  }

EK_QUANTIZE_FROM_FLOAT(ek_quantize_f32_s8, int8_t, INT8_MIN, INT8_MAX)
EK_QUANTIZE_FROM_FLOAT(ek_quantize_f32_s16, int16_t, INT16_MIN, INT16_MAX)
EK_REQUANTIZE(ek_requantize_s8_s8, int8_t, int8_t, INT8_MIN, INT8_MAX)
EK_REQUANTIZE(ek_requantize_s8_s16, int8_t, int16_t, INT16_MIN, INT16_MAX)
EK_REQUANTIZE(ek_requantize_s16_s8, int16_t, int8_t, INT8_MIN, INT8_MAX)
EK_REQUANTIZE(ek_requantize_s16_s16, int16_t, int16_t, INT16_MIN, INT16_MAX)
EK_REQUANTIZE(ek_requantize_s8_s32, int8_t, int32_t, INT32_MIN, INT32_MAX)
EK_REQUANTIZE(ek_requantize_s16_s32, int16_t, int32_t, INT32_MIN, INT32_MAX)
EK_DEQUANTIZE(ek_dequantize_s8_f32, int8_t)
EK_DEQUANTIZE(ek_dequantize_s16_f32, int16_t)
