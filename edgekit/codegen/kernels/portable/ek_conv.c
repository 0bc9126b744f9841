/* CONV_2D, int8 activations, int8 per-channel weights [out_c][k_h][k_w][in_c], int32 bias.
 *
 * Reference arithmetic: acc = sum over taps inside the image of w * (x + input_offset) + bias,
 * requantized per output channel (TFLite double rounding), + output_offset, clamped.
 *
 * Fast form used here, with the same integer result: a padded tap contributes 0, exactly as if
 * its input were the zero point (x + input_offset == 0). So each output pixel's patch is gathered
 * with padding filled by the zero point, and acc = dot(patch, w[oc]) + bias_eff[oc] with
 * bias_eff = bias + input_offset * sum(w[oc]) precomputed. The patch goes to scratch (the planner
 * gives convolutions enough for CMSIS-NN's im2col, which is larger); without room, or when the
 * patch is one contiguous run of the input (1x1 kernels), no copy is made.
 * In place (out == in): 1x1 unit-stride layers pixel by pixel (ek_conv_1x1_inplace), others by
 * rows through a ring (ek_conv_inplace_rows). */
#include <string.h>

#include "ek_ops.h"

/* Four output channels at a time: each input byte is loaded once for four products. */
static void ek_conv_dot4(const int8_t *x, const int8_t *w, int32_t n, int32_t stride, int32_t *acc) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, i;
  const int8_t *w0 = w, *w1 = w + stride, *w2 = w + 2 * stride, *w3 = w + 3 * stride;
  for (i = 0; i < n; ++i) {
    const int32_t v = x[i];
    a0 += v * w0[i];
    a1 += v * w1[i];
    a2 += v * w2[i];
    a3 += v * w3[i];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

static inline int32_t ek_conv_dot1(const int8_t *x, const int8_t *w, int32_t n) {
  int32_t a = 0, i;
  for (i = 0; i < n; ++i) a += (int32_t)x[i] * w[i];
  return a;
}

static inline int8_t ek_conv_requant(const ek_conv_params *p, int32_t acc, int32_t oc) {
  const int32_t v = ek_mbqm(acc, p->mult[oc], p->shift[oc]) + p->output_offset;
  return (int8_t)EK_CLAMP(v, p->act_min, p->act_max);
}

#define EK_CONV_BLOCK 64

/* All output channels of one pixel from a contiguous patch, in blocks of accumulators. */
static void ek_conv_pixel(const ek_conv_params *p, const int8_t *patch, int32_t k, int8_t *o) {
  int32_t acc[EK_CONV_BLOCK];
  int32_t c0, j;
  for (c0 = 0; c0 < p->out_c; c0 += EK_CONV_BLOCK) {
    const int32_t n = EK_MIN(EK_CONV_BLOCK, p->out_c - c0);
    const int8_t *w = p->weights + (size_t)c0 * k;
    for (j = 0; j + 4 <= n; j += 4) ek_conv_dot4(patch, w + (size_t)j * k, k, k, acc + j);
    for (; j < n; ++j) acc[j] = ek_conv_dot1(patch, w + (size_t)j * k, k);
    for (j = 0; j < n; ++j) acc[j] += p->bias_eff[c0 + j];
    ek_requantize_block(acc, p->mult + c0, p->shift + c0, n, p->output_offset, p->act_min, p->act_max, o + c0);
  }
}

/* Without a patch buffer: taps inside the image only, tap by tap (any patch size, no scratch). */
static void ek_conv_pixel_direct(const ek_conv_params *p, const int8_t *img, int32_t iy0, int32_t ix0,
                                 int8_t *o) {
  const int32_t k = p->k_h * p->k_w * p->in_c;
  int32_t oc, ky, kx;
  for (oc = 0; oc < p->out_c; ++oc) {
    const int8_t *w = p->weights + (size_t)oc * k;
    int32_t acc = p->bias ? p->bias[oc] : 0;
    for (ky = 0; ky < p->k_h; ++ky) {
      const int32_t iy = iy0 + ky * p->dil_h;
      if (iy < 0 || iy >= p->in_h) continue;
      for (kx = 0; kx < p->k_w; ++kx) {
        const int32_t ix = ix0 + kx * p->dil_w;
        const int8_t *x = img + ((size_t)iy * p->in_w + ix) * p->in_c;
        const int8_t *wt = w + ((size_t)ky * p->k_w + kx) * p->in_c;
        int32_t c;
        if (ix < 0 || ix >= p->in_w) continue;
        for (c = 0; c < p->in_c; ++c) acc += ((int32_t)x[c] + p->input_offset) * wt[c];
      }
    }
    o[oc] = ek_conv_requant(p, acc, oc);
  }
}

/* 1x1 convolution in place (out == in, unit stride, no padding): pixel p's input is copied to
 * scratch, then its output written. Going forward when out_c <= in_c and backward otherwise, an
 * output pixel only ever covers input pixels that were already consumed. */
static int ek_conv_1x1_inplace(const ek_conv_params *p, int8_t *data, ek_scratch scratch) {
  const int32_t pixels = p->batches * p->out_h * p->out_w;
  int8_t *x = (int8_t *)scratch.buf;
  int32_t i;
  if (scratch.bytes < p->in_c) return EK_ERR_SCRATCH;
  for (i = 0; i < pixels; ++i) {
    const int32_t px = p->out_c <= p->in_c ? i : pixels - 1 - i;
    memcpy(x, data + (size_t)px * p->in_c, (size_t)p->in_c);
    ek_conv_pixel(p, x, p->in_c, data + (size_t)px * p->out_c);
  }
  return EK_OK;
}

/* One output pixel: 1x1 fully inside -> straight from the input; with a patch buffer -> gathered
 * patch (padding = zero point); otherwise tap by tap. */
static void ek_conv_one_pixel(const ek_conv_params *p, const int8_t *img, int32_t oy, int32_t ox, int8_t *patch,
                              int32_t patch_bytes, int8_t *o) {
  const int32_t k = p->k_h * p->k_w * p->in_c;
  const int32_t row = p->k_w * p->in_c;
  const int8_t zp = (int8_t)(-p->input_offset);
  const int32_t iy0 = oy * p->stride_h - p->pad_h;
  const int32_t ix0 = ox * p->stride_w - p->pad_w;
  const int inside = iy0 >= 0 && ix0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h &&
                     ix0 + (p->k_w - 1) * p->dil_w < p->in_w;
  int32_t ky, kx;
  if (p->k_h == 1 && p->k_w == 1 && inside) {
    ek_conv_pixel(p, img + ((size_t)iy0 * p->in_w + ix0) * p->in_c, k, o);
    return;
  }
  if (patch_bytes < k) {
    ek_conv_pixel_direct(p, img, iy0, ix0, o);
    return;
  }
  for (ky = 0; ky < p->k_h; ++ky) {
    const int32_t iy = iy0 + ky * p->dil_h;
    int8_t *dst = patch + (size_t)ky * row;
    if (iy < 0 || iy >= p->in_h) {
      memset(dst, zp, (size_t)row);
      continue;
    }
    if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
      memcpy(dst, img + ((size_t)iy * p->in_w + ix0) * p->in_c, (size_t)row);
      continue;
    }
    for (kx = 0; kx < p->k_w; ++kx) {
      const int32_t ix = ix0 + kx * p->dil_w;
      if (ix < 0 || ix >= p->in_w) {
        memset(dst + (size_t)kx * p->in_c, zp, (size_t)p->in_c);
      } else {
        memcpy(dst + (size_t)kx * p->in_c, img + ((size_t)iy * p->in_w + ix) * p->in_c, (size_t)p->in_c);
      }
    }
  }
  ek_conv_pixel(p, patch, k, o);
}

/* Any single-image convolution in place by rows: output rows go to a ring of inplace_rows rows
 * in scratch (followed by one patch buffer) and are copied to their place as soon as no later
 * output row reads input rows that overlap their bytes. */
static int ek_conv_inplace_rows(const ek_conv_params *p, int8_t *data, ek_scratch scratch) {
  const size_t orow = (size_t)p->out_w * p->out_c, irow = (size_t)p->in_w * p->in_c;
  const int32_t rows = p->inplace_rows, k = p->k_h * p->k_w * p->in_c;
  int8_t *ring = (int8_t *)scratch.buf;
  int32_t r, ox, flushed = 0;
  if (rows <= 0 || p->batches != 1) return EK_ERR_BACKEND;
  if ((size_t)scratch.bytes < (size_t)rows * orow + (size_t)k) return EK_ERR_SCRATCH;
  for (r = 0; r < p->out_h; ++r) {
    int8_t *dst = ring + (size_t)(r % rows) * orow;
    if (r - flushed >= rows) return EK_ERR_SCRATCH;
    for (ox = 0; ox < p->out_w; ++ox) {
      ek_conv_one_pixel(p, data, r, ox, ring + (size_t)rows * orow, k, dst + (size_t)ox * p->out_c);
    }
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

EK_REF int ek_conv_s8_ref(const ek_conv_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  int32_t b, oy, ox;
  if ((const int8_t *)out == in) {
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                          p->pad_h == 0 && p->pad_w == 0;
    return pointwise ? ek_conv_1x1_inplace(p, out, scratch) : ek_conv_inplace_rows(p, out, scratch);
  }
  for (b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (size_t)b * p->in_h * p->in_w * p->in_c;
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        int8_t *o = out + (((size_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
        ek_conv_one_pixel(p, img, oy, ox, (int8_t *)scratch.buf, scratch.bytes, o);
      }
    }
  }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_conv_s8(const ek_conv_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  return ek_conv_s8_ref(p, in, out, scratch);
}
#endif
