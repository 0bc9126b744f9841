/* DEPTHWISE_CONV_2D, int8 activations, int8 per-channel weights [1][k_h][k_w][out_c], int32 bias;
 * out channel oc = ic * depth_mult + m. Same arithmetic as CONV_2D (see ek_conv.c).
 *
 * In place (out == in, depth_mult 1), two ways, chosen at code generation (inplace_rows):
 * - rows (inplace_rows > 0): output rows are computed into a ring of inplace_rows rows in scratch
 *   and copied to their place as soon as no later output row needs the input bytes they cover;
 * - channels (inplace_rows == 0): each channel is computed completely into scratch
 *   (out_h * out_w bytes) and then scattered: output element (p, c) lands on input element (p, c)
 *   of the same channel, no longer needed, whatever the stride.
 * Either way the output shares the input's memory: the layer needs no second activation buffer. */
#include <string.h>

#include "ek_ops.h"

#define EK_DW_CHUNK 64

static inline int8_t ek_dw_requant(const ek_depthwise_conv_params *p, int32_t acc, int32_t oc) {
  int32_t v = ek_mbqm(acc, p->mult[oc], p->shift[oc]) + p->output_offset;
  return (int8_t)EK_CLAMP(v, p->act_min, p->act_max);
}

/* One output pixel, channels [c0, c0 + n), depth multiplier 1: channel-contiguous vector loops. */
static void ek_dw_pixel_m1(const ek_depthwise_conv_params *p, const int8_t *img, int32_t iy0,
                           int32_t ix0, int32_t c0, int32_t n, int8_t *o) {
  int32_t acc[EK_DW_CHUNK];
  int32_t ky, kx, c;
  int32_t ky0, ky1, kx0, kx1;
  ek_tap_range(iy0, p->k_h, p->dil_h, p->in_h, &ky0, &ky1);
  ek_tap_range(ix0, p->k_w, p->dil_w, p->in_w, &kx0, &kx1);
  for (c = 0; c < n; ++c) acc[c] = p->bias[c0 + c];
  for (ky = ky0; ky < ky1; ++ky) {
    const int32_t iy = iy0 + ky * p->dil_h;
    for (kx = kx0; kx < kx1; ++kx) {
      const int32_t ix = ix0 + kx * p->dil_w;
      const int8_t *x, *w;
      x = img + ((size_t)iy * p->in_w + ix) * p->in_c + c0;
      w = p->weights + ((size_t)ky * p->k_w + kx) * p->out_c + c0;
      ek_mac_vector(acc, x, w, p->input_offset, n);
    }
  }
  ek_requantize_block(acc, p->mult + c0, p->shift + c0, n, p->output_offset, p->act_min, p->act_max, o);
}

/* One output pixel, any depth multiplier: blocks of whole input channels (mult outputs each). */
static void ek_dw_pixel_mult(const ek_depthwise_conv_params *p, const int8_t *img, int32_t iy0, int32_t ix0,
                             int8_t *o) {
  int32_t acc[EK_DW_CHUNK];
  const int32_t mult = p->depth_mult;
  const int32_t block = mult <= EK_DW_CHUNK ? (EK_DW_CHUNK / mult) * mult : mult;
  int32_t c0, ky, kx, j;
  if (mult > EK_DW_CHUNK) {  /* very large multipliers: one output at a time */
    for (c0 = 0; c0 < p->out_c; ++c0) {
      int32_t a = p->bias[c0];
      for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) continue;
        for (kx = 0; kx < p->k_w; ++kx) {
          const int32_t ix = ix0 + kx * p->dil_w;
          if (ix < 0 || ix >= p->in_w) continue;
          a += ((int32_t)img[((size_t)iy * p->in_w + ix) * p->in_c + c0 / mult] + p->input_offset) *
               (int32_t)p->weights[((size_t)ky * p->k_w + kx) * p->out_c + c0];
        }
      }
      ek_requantize_block(&a, p->mult + c0, p->shift + c0, 1, p->output_offset, p->act_min, p->act_max, o + c0);
    }
    return;
  }
  int32_t ky0, ky1, kx0, kx1;
  ek_tap_range(iy0, p->k_h, p->dil_h, p->in_h, &ky0, &ky1);
  ek_tap_range(ix0, p->k_w, p->dil_w, p->in_w, &kx0, &kx1);
  for (c0 = 0; c0 < p->out_c; c0 += block) {
    const int32_t n = EK_MIN(block, p->out_c - c0);
    for (j = 0; j < n; ++j) acc[j] = p->bias[c0 + j];
    for (ky = ky0; ky < ky1; ++ky) {
      const int32_t iy = iy0 + ky * p->dil_h;
      for (kx = kx0; kx < kx1; ++kx) {
        const int32_t ix = ix0 + kx * p->dil_w;
        const int8_t *x, *w;
        int32_t ic;
        x = img + ((size_t)iy * p->in_w + ix) * p->in_c;
        w = p->weights + ((size_t)ky * p->k_w + kx) * p->out_c + c0;
        if (p->in_c == 1) {  /* one input channel (first layers): every output reads the same input */
          ek_mac_broadcast(acc, w, (int32_t)x[0] + p->input_offset, n);
          continue;
        }
        for (j = 0, ic = c0 / mult; j < n; j += mult, ++ic) {
          ek_mac_broadcast(acc + j, w + j, (int32_t)x[ic] + p->input_offset, mult);
        }
      }
    }
    ek_requantize_block(acc, p->mult + c0, p->shift + c0, n, p->output_offset, p->act_min, p->act_max, o + c0);
  }
}

static int ek_dw_inplace_rows(const ek_depthwise_conv_params *p, int8_t *data, ek_scratch scratch) {
  const size_t orow = (size_t)p->out_w * p->out_c, irow = (size_t)p->in_w * p->in_c;
  const int32_t rows = p->inplace_rows;
  int8_t *ring = (int8_t *)scratch.buf;
  int32_t r, ox, c0, flushed = 0;
  if ((size_t)scratch.bytes < (size_t)rows * orow) return EK_ERR_SCRATCH;
  for (r = 0; r < p->out_h; ++r) {
    int8_t *dst = ring + (size_t)(r % rows) * orow;
    const int32_t iy0 = r * p->stride_h - p->pad_h;
    if (r - flushed >= rows) return EK_ERR_SCRATCH;
    for (ox = 0; ox < p->out_w; ++ox) {
      const int32_t ix0 = ox * p->stride_w - p->pad_w;
      for (c0 = 0; c0 < p->in_c; c0 += EK_DW_CHUNK) {
        ek_dw_pixel_m1(p, data, iy0, ix0, c0, EK_MIN(EK_DW_CHUNK, p->in_c - c0), dst + (size_t)ox * p->out_c + c0);
      }
    }
    /* rows whose bytes no later output row reads as input go to their place */
    while (flushed <= r) {
      if (r + 1 < p->out_h) {
        const int32_t first_row = EK_MAX(0, (r + 1) * p->stride_h - p->pad_h);
        if ((size_t)(flushed + 1) * orow > (size_t)first_row * irow) break;
      }
      memcpy(data + (size_t)flushed * orow, ring + (size_t)(flushed % rows) * orow, orow);
      ++flushed;
    }
  }
  return EK_OK;
}

static int ek_dw_inplace(const ek_depthwise_conv_params *p, int8_t *data, ek_scratch scratch) {
  const int32_t plane = p->out_h * p->out_w;
  int8_t *tmp = (int8_t *)scratch.buf;
  int32_t c, oy, ox, ky, kx;
  if (scratch.bytes < plane) return EK_ERR_SCRATCH;
  for (c = 0; c < p->in_c; ++c) {
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        int32_t acc = p->bias[c];
        for (ky = 0; ky < p->k_h; ++ky) {
          const int32_t iy = iy0 + ky * p->dil_h;
          if (iy < 0 || iy >= p->in_h) continue;
          for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) continue;
            acc += ((int32_t)data[((size_t)iy * p->in_w + ix) * p->in_c + c] + p->input_offset) *
                   (int32_t)p->weights[((size_t)ky * p->k_w + kx) * p->out_c + c];
          }
        }
        tmp[oy * p->out_w + ox] = ek_dw_requant(p, acc, c);
      }
    }
    for (oy = 0; oy < plane; ++oy) data[(size_t)oy * p->out_c + c] = tmp[oy];
  }
  return EK_OK;
}

EK_REF int ek_depthwise_conv_s8_ref(const ek_depthwise_conv_params *p, const int8_t *in, int8_t *out,
                                    ek_scratch scratch) {
  int32_t b, oy, ox;
  if ((const int8_t *)out == in) {
    if (p->depth_mult != 1 || p->batches != 1) return EK_ERR_BACKEND;
    return p->inplace_rows > 0 ? ek_dw_inplace_rows(p, out, scratch) : ek_dw_inplace(p, out, scratch);
  }
  for (b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (size_t)b * p->in_h * p->in_w * p->in_c;
    for (oy = 0; oy < p->out_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        int8_t *o = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
        if (p->depth_mult == 1) {
          int32_t c0;
          for (c0 = 0; c0 < p->in_c; c0 += EK_DW_CHUNK) {
            const int32_t n = EK_MIN(EK_DW_CHUNK, p->in_c - c0);
            ek_dw_pixel_m1(p, img, iy0, ix0, c0, n, o + c0);
          }
        } else {
          ek_dw_pixel_mult(p, img, iy0, ix0, o);
        }
      }
    }
  }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_depthwise_conv_s8(const ek_depthwise_conv_params *p, const int8_t *in, int8_t *out,
                         ek_scratch scratch) {
  return ek_depthwise_conv_s8_ref(p, in, out, scratch);
}
#endif
