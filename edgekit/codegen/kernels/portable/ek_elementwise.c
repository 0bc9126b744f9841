/* ADD and MUL, int8, with numpy-style broadcasting over up to 6 dimensions.
 * ADD rescales both inputs to a common scale with 20 bits of headroom (TFLite's left_shift),
 * adds, and requantizes; MUL multiplies the offset inputs and requantizes once. The output may
 * share memory with an input of the same shape (element i only reads element i). */
#include "ek_ops.h"

static inline int8_t ek_add_one(const ek_binary_params *p, int8_t a, int8_t b) {
  const int32_t sa = ek_shl_wrap((int32_t)a + p->input1_offset, p->left_shift);
  const int32_t sb = ek_shl_wrap((int32_t)b + p->input2_offset, p->left_shift);
  const int32_t ra = ek_mbqm_pos(sa, p->input1_mult, p->input1_shift);
  const int32_t rb = ek_mbqm_pos(sb, p->input2_mult, p->input2_shift);
  int32_t v = ek_mbqm_pos(ra + rb, p->output_mult, p->output_shift) + p->output_offset;
  v = v < p->act_min ? p->act_min : v;
  return (int8_t)(v > p->act_max ? p->act_max : v);
}

static inline int8_t ek_mul_one(const ek_binary_params *p, int8_t a, int8_t b) {
  const int32_t prod = ((int32_t)a + p->input1_offset) * ((int32_t)b + p->input2_offset);
  int32_t v = ek_mbqm_pos(prod, p->output_mult, p->output_shift) + p->output_offset;
  v = v < p->act_min ? p->act_min : v;
  return (int8_t)(v > p->act_max ? p->act_max : v);
}

#define EK_BINARY_LOOP(ONE)                                                                      \
  do {                                                                                           \
    int32_t i0, i1, i2, i3, i4, i5;                                                              \
    const int32_t *d = p->out_dims, *s1 = p->in1_strides, *s2 = p->in2_strides;                  \
    size_t o = 0;                                                                                \
    if (!p->broadcast) {                                                                         \
      const ek_binary_params q = *p; /* a local copy: stores through int8_t* cannot change it */ \
      const int32_t size = q.size;                                                               \
      int32_t i;                                                                                 \
      for (i = 0; i < size; ++i) out[i] = ONE(&q, a[i], b[i]);                                   \
      break;                                                                                     \
    }                                                                                            \
    for (i0 = 0; i0 < d[0]; ++i0)                                                                \
      for (i1 = 0; i1 < d[1]; ++i1)                                                              \
        for (i2 = 0; i2 < d[2]; ++i2)                                                            \
          for (i3 = 0; i3 < d[3]; ++i3)                                                          \
            for (i4 = 0; i4 < d[4]; ++i4)                                                        \
              for (i5 = 0; i5 < d[5]; ++i5) {                                                    \
                const size_t ia = (size_t)i0 * s1[0] + (size_t)i1 * s1[1] + (size_t)i2 * s1[2] + \
                                  (size_t)i3 * s1[3] + (size_t)i4 * s1[4] + (size_t)i5 * s1[5]; \
                const size_t ib = (size_t)i0 * s2[0] + (size_t)i1 * s2[1] + (size_t)i2 * s2[2] + \
                                  (size_t)i3 * s2[3] + (size_t)i4 * s2[4] + (size_t)i5 * s2[5]; \
                out[o++] = ONE(p, a[ia], b[ib]);                                                 \
              }                                                                                  \
  } while (0)

EK_REF int ek_add_s8_ref(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
  EK_BINARY_LOOP(ek_add_one);
  return EK_OK;
}

EK_REF int ek_mul_s8_ref(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
  EK_BINARY_LOOP(ek_mul_one);
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_add_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
  return ek_add_s8_ref(p, a, b, out);
}
int ek_mul_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out) {
  return ek_mul_s8_ref(p, a, b, out);
}
#endif
