/* PAD / PADV2 on up to 5 dimensions, any element type (elem_bytes 1, 2 or 4): output filled with
 * the pad value, then every innermost input row copied to its place. */
#include <string.h>

#include "ek_ops.h"

static void ek_fill(uint8_t *dst, int32_t count, int32_t elem_bytes, int32_t value) {
  int32_t i;
  if (elem_bytes == 1) {
    memset(dst, (int)(int8_t)value, (size_t)count);
    return;
  }
  for (i = 0; i < count; ++i) {
    if (elem_bytes == 2) {
      const int16_t v = (int16_t)value;
      memcpy(dst + (size_t)i * 2, &v, 2);
    } else {
      memcpy(dst + (size_t)i * 4, &value, 4);
    }
  }
}

EK_REF int ek_pad_ref(const ek_pad_params *p, const void *in, void *out) {
  const uint8_t *src = (const uint8_t *)in;
  uint8_t *dst = (uint8_t *)out;
  const int32_t *id = p->in_dims, *od = p->out_dims, *bf = p->before;
  const size_t row = (size_t)id[4] * p->elem_bytes;
  int32_t i0, i1, i2, i3;
  ek_fill(dst, od[0] * od[1] * od[2] * od[3] * od[4], p->elem_bytes, p->pad_value);
  for (i0 = 0; i0 < id[0]; ++i0)
    for (i1 = 0; i1 < id[1]; ++i1)
      for (i2 = 0; i2 < id[2]; ++i2)
        for (i3 = 0; i3 < id[3]; ++i3) {
          const size_t o = (((((size_t)(i0 + bf[0]) * od[1] + i1 + bf[1]) * od[2] + i2 + bf[2]) * od[3] +
                             i3 + bf[3]) * od[4] + bf[4]) * p->elem_bytes;
          memcpy(dst + o, src, row);
          src += row;
        }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_pad(const ek_pad_params *p, const void *in, void *out) { return ek_pad_ref(p, in, out); }
#endif
