/* STRIDED_SLICE / SLICE: copies the elements start[d] + i * step[d], i < count[d], of a 6-D
 * (leading dimensions of size 1 added) input, in output order. Any element size. */
#include <string.h>

#include "ek_ops.h"

int ek_slice(const ek_slice_params *p, const void *in, void *out) {
  const uint8_t *src = (const uint8_t *)in;
  uint8_t *dst = (uint8_t *)out;
  const size_t eb = (size_t)p->elem_bytes;
  int32_t i0, i1, i2, i3, i4, i5;
  for (i0 = 0; i0 < p->count[0]; ++i0) {
    const int32_t o0 = (p->start[0] + i0 * p->step[0]) * p->in_stride[0];
    for (i1 = 0; i1 < p->count[1]; ++i1) {
      const int32_t o1 = o0 + (p->start[1] + i1 * p->step[1]) * p->in_stride[1];
      for (i2 = 0; i2 < p->count[2]; ++i2) {
        const int32_t o2 = o1 + (p->start[2] + i2 * p->step[2]) * p->in_stride[2];
        for (i3 = 0; i3 < p->count[3]; ++i3) {
          const int32_t o3 = o2 + (p->start[3] + i3 * p->step[3]) * p->in_stride[3];
          for (i4 = 0; i4 < p->count[4]; ++i4) {
            const int32_t o4 = o3 + (p->start[4] + i4 * p->step[4]) * p->in_stride[4];
            if (p->step[5] == 1) { /* a contiguous run of the innermost dimension */
              const size_t n = (size_t)p->count[5] * eb;
              memcpy(dst, src + (size_t)(o4 + p->start[5]) * eb, n);
              dst += n;
              continue;
            }
            for (i5 = 0; i5 < p->count[5]; ++i5) {
              memcpy(dst, src + (size_t)(o4 + p->start[5] + i5 * p->step[5]) * eb, eb);
              dst += eb;
            }
          }
        }
      }
    }
  }
  return EK_OK;
}
