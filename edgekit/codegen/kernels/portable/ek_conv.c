/* CONV_2D, int8 activations, int8 per-channel weights [out_c][k_h][k_w][in_c], int32 bias.
 *
 * Reference arithmetic: acc = sum over taps inside the image of w * (x + input_offset) + bias,
 * requantized per output channel (TFLite double rounding), + output_offset, clamped.
 *
 * Fast form used here, with the same integer result: a padded tap contributes 0, exactly as if
 * its input were the zero point (x + input_offset == 0). So each output pixel's patch is gathered
 * with padding filled by the zero point, and acc = dot(patch, w[oc]) + bias_eff[oc] with
 * bias_eff = bias + input_offset * sum(w[oc]) precomputed. The patch goes to scratch (too little
 * fails with EK_ERR_SCRATCH); when it is one contiguous run of the input (1x1 kernels without
 * padding), no copy is made.
 * With DSP instructions (EK_DSP) and room in scratch for a pair buffer (ek_pair_words), output
 * pixels go two at a time: both patches widened to 16 bits once, then every weight word serves
 * both (ek_dot2x2_s16); a lone pixel uses ek_dot4_s8.
 * In place (out == in): 1x1 unit-stride layers pixel by pixel or pair by pair
 * (ek_conv_1x1_inplace), others by rows through a ring (ek_conv_inplace_rows). */
#include <string.h>

#define EK_KERNEL_LOOPS
#include "ek_ops.h"

#define EK_CONV_BLOCK 64

#if EK_DSP
/* All output channels of one pixel from a contiguous patch: four channels per pass over the
 * patch (ek_dot4_s8, each patch word extended once for four weight rows). */
static void ek_conv_pixel(const ek_conv_params *p, const int8_t *patch, int32_t k, int8_t *o) {
  int32_t acc[EK_CONV_BLOCK];
  int32_t c0, j;
  for (c0 = 0; c0 < p->out_c; c0 += EK_CONV_BLOCK) {
    const int32_t n = EK_MIN(EK_CONV_BLOCK, p->out_c - c0);
    const int8_t *w = p->weights + (size_t)c0 * k;
    memcpy(acc, p->bias_eff + c0, (size_t)n * sizeof(int32_t));
    for (j = 0; j + 4 <= n; j += 4) ek_dot4_s8(patch, w + (size_t)j * k, k, acc + j);
    for (; j < n; ++j) acc[j] = ek_dot1_s8(patch, w + (size_t)j * k, k, acc[j]);
    ek_requant_run(acc, p->mult + c0, p->shift + c0, n, p->output_offset, p->act_min, p->act_max, o + c0);
  }
}

/* All output channels of two pixels from a pair buffer (ek_widen_s8 of both patches). */
static void ek_conv_pair(const ek_conv_params *p, const int32_t *pair, int32_t k, int8_t *oa, int8_t *ob) {
  int32_t acc_a[EK_CONV_BLOCK / 2], acc_b[EK_CONV_BLOCK / 2], acc[4];
  int32_t c0, j, i;
  for (c0 = 0; c0 < p->out_c; c0 += EK_CONV_BLOCK / 2) {
    const int32_t n = EK_MIN(EK_CONV_BLOCK / 2, p->out_c - c0);
    const int8_t *w = p->weights + (size_t)c0 * k;
    for (j = 0; j + 2 <= n; j += 2) {
      acc[0] = p->bias_eff[c0 + j];
      acc[1] = p->bias_eff[c0 + j + 1];
      acc[2] = acc[0];
      acc[3] = acc[1];
      ek_dot2x2_s16(pair, w + (size_t)j * k, k, acc);
      acc_a[j] = acc[0];
      acc_a[j + 1] = acc[1];
      acc_b[j] = acc[2];
      acc_b[j + 1] = acc[3];
    }
    if (j < n) { /* odd channel count: the last channel for both pixels */
      const int8_t *wl = w + (size_t)j * k, *ta = (const int8_t *)(pair + 4 * (k >> 2)), *tb = ta + 4;
      int32_t a = p->bias_eff[c0 + j], b = a;
      for (i = 0; i < (k >> 2); ++i) {
        const uint32_t wv = ek_load4(wl + 4 * i);
        const int32_t we = ek_even16(wv), wo = ek_odd16(wv);
        a = ek_smlad(pair[4 * i + 1], wo, ek_smlad(pair[4 * i], we, a));
        b = ek_smlad(pair[4 * i + 3], wo, ek_smlad(pair[4 * i + 2], we, b));
      }
      for (i = 0; i < (k & 3); ++i) {
        a += ta[i] * wl[4 * (k >> 2) + i];
        b += tb[i] * wl[4 * (k >> 2) + i];
      }
      acc_a[j] = a;
      acc_b[j] = b;
    }
    ek_requant_run(acc_a, p->mult + c0, p->shift + c0, n, p->output_offset, p->act_min, p->act_max, oa + c0);
    ek_requant_run(acc_b, p->mult + c0, p->shift + c0, n, p->output_offset, p->act_min, p->act_max, ob + c0);
  }
}
#else
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
#endif

/* 1x1 kernel without padding: every patch is a run of the input, no scratch needed. */
static int ek_conv_direct(const ek_conv_params *p) {
  return p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0;
}

/* A pixel's patch: the input itself for a 1x1 kernel inside the image, else gathered into `patch`
 * (padding = zero point); NULL when `patch` is too small for it. */
static const int8_t *ek_conv_patch(const ek_conv_params *p, const int8_t *img, int32_t oy, int32_t ox,
                                   int8_t *patch, int32_t patch_bytes) {
  const int32_t k = p->k_h * p->k_w * p->in_c;
  const int32_t row = p->k_w * p->in_c;
  const int8_t zp = (int8_t)(-p->input_offset);
  const int32_t iy0 = oy * p->stride_h - p->pad_h;
  const int32_t ix0 = ox * p->stride_w - p->pad_w;
  const int inside = iy0 >= 0 && ix0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h &&
                     ix0 + (p->k_w - 1) * p->dil_w < p->in_w;
  int32_t ky, kx;
  if (p->k_h == 1 && p->k_w == 1 && inside) return img + ((size_t)iy0 * p->in_w + ix0) * p->in_c;
  if (patch_bytes < k) return NULL;
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
  return patch;
}

/* One output row (out_w pixels at orow); buf: 4-byte aligned scratch for patches, at least k
 * bytes unless every patch is a run of the input (ek_conv_direct). */
static void ek_conv_row(const ek_conv_params *p, const int8_t *img, int32_t oy, int8_t *orow, int8_t *buf,
                        int32_t bytes) {
  const int32_t out_c = p->out_c, k = p->k_h * p->k_w * p->in_c;
  int32_t ox = 0;
#if EK_DSP
  const int32_t pair_bytes = 4 * ek_pair_words(k);
  if (bytes >= pair_bytes + (ek_conv_direct(p) ? 0 : k)) {
    int32_t *pair = (int32_t *)(void *)buf;
    int8_t *patch = buf + pair_bytes;
    for (; ox + 2 <= p->out_w; ox += 2) {
      ek_widen_s8(ek_conv_patch(p, img, oy, ox, patch, bytes - pair_bytes), k, pair, 0);
      ek_widen_s8(ek_conv_patch(p, img, oy, ox + 1, patch, bytes - pair_bytes), k, pair, 1);
      ek_conv_pair(p, pair, k, orow + (size_t)ox * out_c, orow + (size_t)(ox + 1) * out_c);
    }
  }
#endif
  for (; ox < p->out_w; ++ox) ek_conv_pixel(p, ek_conv_patch(p, img, oy, ox, buf, bytes), k, orow + (size_t)ox * out_c);
}

/* 1x1 convolution in place (out == in, unit stride, no padding): a pixel's (or a pair's) input is
 * copied to scratch (widened, for a pair), then its output written. Going forward when
 * out_c <= in_c and backward otherwise, an output pixel only ever covers input pixels that were
 * already consumed. */
static int ek_conv_1x1_inplace(const ek_conv_params *p, int8_t *data, ek_scratch scratch) {
  const int32_t pixels = p->batches * p->out_h * p->out_w, in_c = p->in_c, out_c = p->out_c;
  const int forward = out_c <= in_c;
  int8_t *x = (int8_t *)scratch.buf;
  int32_t i, done = 0;
  if (scratch.bytes < in_c) return EK_ERR_SCRATCH;
#if EK_DSP
  if (scratch.bytes >= 4 * ek_pair_words(in_c)) {
    int32_t *pair = (int32_t *)scratch.buf;
    for (; done + 2 <= pixels; done += 2) {
      const int32_t px = forward ? done : pixels - 2 - done;
      ek_widen_s8(data + (size_t)px * in_c, in_c, pair, 0);
      ek_widen_s8(data + (size_t)(px + 1) * in_c, in_c, pair, 1);
      ek_conv_pair(p, pair, in_c, data + (size_t)px * out_c, data + (size_t)(px + 1) * out_c);
    }
  }
#endif
  for (i = done; i < pixels; ++i) {
    const int32_t px = forward ? i : pixels - 1 - i;
    memcpy(x, data + (size_t)px * in_c, (size_t)in_c);
    ek_conv_pixel(p, x, in_c, data + (size_t)px * out_c);
  }
  return EK_OK;
}

/* Any single-image convolution in place by rows: output rows go to a ring of inplace_rows rows
 * in scratch (followed by the patch buffers, 4-byte aligned) and are copied to their place as
 * soon as no later output row reads input rows that overlap their bytes. */
static int ek_conv_inplace_rows(const ek_conv_params *p, int8_t *data, ek_scratch scratch) {
  const size_t orow = (size_t)p->out_w * p->out_c, irow = (size_t)p->in_w * p->in_c;
  const int32_t rows = p->inplace_rows, k = p->k_h * p->k_w * p->in_c;
  const size_t ring_bytes = ((size_t)rows * orow + 3) & ~(size_t)3;
  int8_t *ring = (int8_t *)scratch.buf;
  int32_t r, flushed = 0;
  if (rows <= 0 || p->batches != 1) return EK_ERR_BACKEND;
  if ((size_t)scratch.bytes < ring_bytes + (size_t)k) return EK_ERR_SCRATCH;
  for (r = 0; r < p->out_h; ++r) {
    if (r - flushed >= rows) return EK_ERR_SCRATCH;
    ek_conv_row(p, data, r, ring + (size_t)(r % rows) * orow, ring + ring_bytes, scratch.bytes - (int32_t)ring_bytes);
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

/* Scratch: a patch (k bytes) unless ek_conv_direct; with a pair buffer in front, pixels go in pairs. */
EK_REF int ek_conv_s8_ref(const ek_conv_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  int32_t b, oy;
  if ((const int8_t *)out == in) {
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                          p->pad_h == 0 && p->pad_w == 0;
    return pointwise ? ek_conv_1x1_inplace(p, out, scratch) : ek_conv_inplace_rows(p, out, scratch);
  }
  if (!ek_conv_direct(p) && scratch.bytes < p->k_h * p->k_w * p->in_c) return EK_ERR_SCRATCH;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *img = in + (size_t)b * p->in_h * p->in_w * p->in_c;
    for (oy = 0; oy < p->out_h; ++oy) {
      ek_conv_row(p, img, oy, out + ((size_t)b * p->out_h + oy) * p->out_w * p->out_c, (int8_t *)scratch.buf,
                  scratch.bytes);
    }
  }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_conv_s8(const ek_conv_params *p, const int8_t *in, int8_t *out, ek_scratch scratch) {
  return ek_conv_s8_ref(p, in, out, scratch);
}
#endif
