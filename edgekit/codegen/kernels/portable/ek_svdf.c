/* SVDF with int8 input/output and an int8 or int16 state (time weights of the same type), as
 * TensorFlow Lite Micro's integer SVDF computes it:
 *   1. the state [batch][filter][memory], seen as one flat array, moves left by one element;
 *   2. each filter's newest entry = state zero point + clamp(requantized feature dot product)
 *      (clamped to the state type, then stored: an int8 state wraps as the reference does);
 *   3. out[unit] = clamp8(requantized(bias + sum over its `rank` filters of
 *      time weights . (state - state zero point)) + output zero point).
 * Integer sums are exact, so the filters of a unit are summed directly (no scratch). */
#include "ek_ops.h"

#define EK_SVDF(NAME, STATE_T, LO, HI)                                                                 \
  EK_REF int NAME##_ref(const ek_svdf_params *p, const int8_t *in, STATE_T *state, int8_t *out,       \
                        ek_scratch scratch) {                                                         \
    const STATE_T *wt = (const STATE_T *)p->time_weights;                                            \
    const int32_t total = p->batches * p->filters * p->memory;                                       \
    int32_t i, b, f, u, r, m, c;                                                                     \
    (void)scratch;                                                                                   \
    for (i = 0; i + 1 < total; ++i) state[i] = state[i + 1];                                         \
    for (b = 0; b < p->batches; ++b) {                                                               \
      const int8_t *x = in + (size_t)b * p->input_size;                                              \
      for (f = 0; f < p->filters; ++f) {                                                             \
        const int8_t *w = p->feature_weights + (size_t)f * p->input_size;                            \
        int32_t acc = 0;                                                                             \
        for (c = 0; c < p->input_size; ++c) acc += (int32_t)w[c] * ((int32_t)x[c] + p->input_offset); \
        acc = ek_mbqm(acc, p->feature_mult, p->feature_shift);                                       \
        acc = EK_CLAMP(acc, LO, HI);                                                                 \
        state[((size_t)b * p->filters + f) * p->memory + p->memory - 1] =                            \
            (STATE_T)(p->state_zero_point + acc);                                                    \
      }                                                                                              \
      for (u = 0; u < p->units; ++u) {                                                               \
        int32_t acc = p->bias[u], v;                                                                 \
        for (r = 0; r < p->rank; ++r) {                                                              \
          const int32_t filt = u * p->rank + r;                                                      \
          const STATE_T *s = state + ((size_t)b * p->filters + filt) * p->memory;                    \
          const STATE_T *t = wt + (size_t)filt * p->memory;                                          \
          for (m = 0; m < p->memory; ++m) acc += (int32_t)t[m] * ((int32_t)s[m] - p->state_zero_point); \
        }                                                                                            \
        v = ek_mbqm(acc, p->output_mult, p->output_shift) + p->output_offset;                        \
        out[(size_t)b * p->units + u] = (int8_t)EK_CLAMP(v, INT8_MIN, INT8_MAX);                     \
      }                                                                                              \
    }                                                                                                \
    return EK_OK;                                                                                    \
  }

EK_SVDF(ek_svdf_s8, int8_t, INT8_MIN, INT8_MAX)
EK_SVDF(ek_svdf_s8_s16, int16_t, INT16_MIN, INT16_MAX)

#ifndef EK_REF_ONLY
int ek_svdf_s8(const ek_svdf_params *p, const int8_t *in, int8_t *state, int8_t *out, ek_scratch scratch) {
  return ek_svdf_s8_ref(p, in, state, out, scratch);
}

int ek_svdf_s8_s16(const ek_svdf_params *p, const int8_t *in, int16_t *state, int8_t *out, ek_scratch scratch) {
  return ek_svdf_s8_s16_ref(p, in, state, out, scratch);
}
#endif
