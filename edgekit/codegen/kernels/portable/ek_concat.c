/* CONCATENATION of inputs with identical quantization (TFLite Micro requires it), any element
 * type: for each of `outer` slices, each input contributes a contiguous block of its bytes. */
#include <string.h>

#include "ek_ops.h"

EK_REF int ek_concat_ref(const ek_concat_params *p, const void *const *ins, void *out) {
  uint8_t *dst = (uint8_t *)out;
  int32_t o, k;
  for (o = 0; o < p->outer; ++o) {
    for (k = 0; k < p->num_inputs; ++k) {
      const size_t n = (size_t)p->block_bytes[k];
      memcpy(dst, (const uint8_t *)ins[k] + (size_t)o * n, n);
      dst += n;
    }
  }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_concat(const ek_concat_params *p, const void *const *ins, void *out) {
  return ek_concat_ref(p, ins, out);
}
#endif
