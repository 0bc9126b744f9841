/* TRANSPOSE of up to 6 dimensions, any element type: walks the output in order and reads the
 * input through per-output-dimension strides computed at code generation. */
#include <string.h>

#include "ek_ops.h"

EK_REF int ek_transpose_ref(const ek_transpose_params *p, const void *in, void *out) {
  const uint8_t *src = (const uint8_t *)in;
  uint8_t *dst = (uint8_t *)out;
  const int32_t *d = p->out_dims, *s = p->in_strides;
  const size_t e = (size_t)p->elem_bytes;
  int32_t i0, i1, i2, i3, i4, i5;
  for (i0 = 0; i0 < d[0]; ++i0)
    for (i1 = 0; i1 < d[1]; ++i1)
      for (i2 = 0; i2 < d[2]; ++i2)
        for (i3 = 0; i3 < d[3]; ++i3)
          for (i4 = 0; i4 < d[4]; ++i4)
            for (i5 = 0; i5 < d[5]; ++i5) {
              const size_t i = (size_t)i0 * s[0] + (size_t)i1 * s[1] + (size_t)i2 * s[2] +
                               (size_t)i3 * s[3] + (size_t)i4 * s[4] + (size_t)i5 * s[5];
              memcpy(dst, src + i * e, e);
              dst += e;
            }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_transpose(const ek_transpose_params *p, const void *in, void *out) {
  return ek_transpose_ref(p, in, out);
}
#endif
