/* AVERAGE_POOL_2D and MAX_POOL_2D, int8, same quantization in and out (TFLite requires it).
 * Average: sum over the taps inside the image, divided by their count rounding half away from
 * zero, clamped to the fused activation range. */
#include "ek_ops.h"

EK_REF int ek_avg_pool_s8_ref(const ek_pool_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  int32_t b, oy, ox, c;
  (void)scratch;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      const int32_t ky0 = EK_MAX(0, -iy0), ky1 = EK_MIN(p->k_h, p->in_h - iy0);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        const int32_t kx0 = EK_MAX(0, -ix0), kx1 = EK_MIN(p->k_w, p->in_w - ix0);
        const int32_t count = (ky1 - ky0) * (kx1 - kx0);
        int8_t *o = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->ch;
        for (c = 0; c < p->ch; ++c) {
          int32_t acc = 0, ky, kx;
          for (ky = ky0; ky < ky1; ++ky) {
            const int8_t *row = in + ((size_t)b * p->in_h + iy0 + ky) * p->in_w * p->ch + c;
            for (kx = kx0; kx < kx1; ++kx) acc += row[(size_t)(ix0 + kx) * p->ch];
          }
          if (count <= 0) return EK_ERR_BACKEND;
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          o[c] = (int8_t)EK_CLAMP(acc, p->act_min, p->act_max);
        }
      }
    }
  }
  return EK_OK;
}

EK_REF int ek_max_pool_s8_ref(const ek_pool_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  int32_t b, oy, ox, c;
  (void)scratch;
  for (b = 0; b < p->batches; ++b) {
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      const int32_t ky0 = EK_MAX(0, -iy0), ky1 = EK_MIN(p->k_h, p->in_h - iy0);
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        const int32_t kx0 = EK_MAX(0, -ix0), kx1 = EK_MIN(p->k_w, p->in_w - ix0);
        int8_t *o = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->ch;
        for (c = 0; c < p->ch; ++c) {
          int32_t m = INT8_MIN, ky, kx;
          for (ky = ky0; ky < ky1; ++ky) {
            const int8_t *row = in + ((size_t)b * p->in_h + iy0 + ky) * p->in_w * p->ch + c;
            for (kx = kx0; kx < kx1; ++kx) m = EK_MAX(m, (int32_t)row[(size_t)(ix0 + kx) * p->ch]);
          }
          o[c] = (int8_t)EK_CLAMP(m, p->act_min, p->act_max);
        }
      }
    }
  }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_avg_pool_s8(const ek_pool_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  return ek_avg_pool_s8_ref(p, in, out, scratch);
}
int ek_max_pool_s8(const ek_pool_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  return ek_max_pool_s8_ref(p, in, out, scratch);
}
#endif
