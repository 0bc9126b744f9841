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

#define EK_KERNEL_LOOPS
#include "ek_ops.h"

#define EK_DW_CHUNK 64

#if EK_DSP
/* One output pixel, channels [c0, c0 + n), depth multiplier 1, four channels per word: SXTAB16
 * extends the input and adds the input offset in one instruction, SMLABB / SMLATT accumulate
 * each 16-bit lane into its channel. Rows of three taps (3x3 kernels) are unrolled. n <= EK_DW_CHUNK. */
EK_DSP_LOOP void ek_dw_pixel_m1(const ek_depthwise_conv_params *p, const int8_t *img, int32_t iy0,
                                       int32_t ix0, int32_t c0, int32_t n, int8_t *o) {
  const int32_t ch = p->in_c, dil_w = p->dil_w, in_off = p->input_offset;
  const int32_t *bias = p->bias;
  int32_t acc[EK_DW_CHUNK];
  const int32_t pair = (int32_t)(((uint32_t)(uint16_t)in_off) * 0x10001u);
  int32_t ky0, ky1, kx0, kx1, c, rows, cols, x_row, w_row, x_col;
  const int8_t *x_first, *w_first;
  ek_tap_range(iy0, p->k_h, p->dil_h, p->in_h, &ky0, &ky1);
  ek_tap_range(ix0, p->k_w, dil_w, p->in_w, &kx0, &kx1);
  rows = ky1 - ky0;
  cols = kx1 - kx0;
  x_row = p->in_w * ch * p->dil_h;
  w_row = p->k_w * ch;
  x_col = ch * dil_w;
  x_first = img + ((size_t)(iy0 + ky0 * p->dil_h) * p->in_w + ix0 + kx0 * dil_w) * ch;
  w_first = p->weights + ((size_t)ky0 * p->k_w + kx0) * ch;
  if (rows <= 0 || cols <= 0) rows = cols = 0;
  for (c = c0; c + 4 <= c0 + n; c += 4) {
    int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3], r, t;
    const int8_t *xr = x_first + c, *wr = w_first + c;
    if (cols == 3 && dil_w == 1) {
      for (r = rows; r > 0; --r, xr += x_row, wr += w_row) {
        uint32_t xv = ek_load4(xr), wv = ek_load4(wr);
        int32_t xe = ek_even16_add(pair, xv), we = ek_even16(wv);
        a0 = ek_smlabb(xe, we, a0);
        a2 = ek_smlatt(xe, we, a2);
        xe = ek_odd16_add(pair, xv);
        we = ek_odd16(wv);
        a1 = ek_smlabb(xe, we, a1);
        a3 = ek_smlatt(xe, we, a3);
        xv = ek_load4(xr + ch);
        wv = ek_load4(wr + ch);
        xe = ek_even16_add(pair, xv);
        we = ek_even16(wv);
        a0 = ek_smlabb(xe, we, a0);
        a2 = ek_smlatt(xe, we, a2);
        xe = ek_odd16_add(pair, xv);
        we = ek_odd16(wv);
        a1 = ek_smlabb(xe, we, a1);
        a3 = ek_smlatt(xe, we, a3);
        xv = ek_load4(xr + 2 * ch);
        wv = ek_load4(wr + 2 * ch);
        xe = ek_even16_add(pair, xv);
        we = ek_even16(wv);
        a0 = ek_smlabb(xe, we, a0);
        a2 = ek_smlatt(xe, we, a2);
        xe = ek_odd16_add(pair, xv);
        we = ek_odd16(wv);
        a1 = ek_smlabb(xe, we, a1);
        a3 = ek_smlatt(xe, we, a3);
      }
    } else {
      for (r = rows; r > 0; --r, xr += x_row, wr += w_row) {
        const int8_t *xp = xr, *wp = wr;
        for (t = cols; t > 0; --t, xp += x_col, wp += ch) {
          const uint32_t xv = ek_load4(xp), wv = ek_load4(wp);
          int32_t xe = ek_even16_add(pair, xv), we = ek_even16(wv);
          a0 = ek_smlabb(xe, we, a0);
          a2 = ek_smlatt(xe, we, a2);
          xe = ek_odd16_add(pair, xv);
          we = ek_odd16(wv);
          a1 = ek_smlabb(xe, we, a1);
          a3 = ek_smlatt(xe, we, a3);
        }
      }
    }
    acc[c - c0] = a0;
    acc[c - c0 + 1] = a1;
    acc[c - c0 + 2] = a2;
    acc[c - c0 + 3] = a3;
  }
  for (; c < c0 + n; ++c) {
    int32_t a = bias[c], r, t;
    const int8_t *xr = x_first + c, *wr = w_first + c;
    for (r = rows; r > 0; --r, xr += x_row, wr += w_row) {
      for (t = 0; t < cols; ++t) a += ((int32_t)xr[t * x_col] + in_off) * wr[t * ch];
    }
    acc[c - c0] = a;
  }
  ek_requant_run(acc, p->mult + c0, p->shift + c0, n, p->output_offset, p->act_min, p->act_max, o);
}
#else
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
#endif

/* One output pixel, any depth multiplier (rare: a plain loop, one output at a time). */
EK_COLD void ek_dw_pixel_mult(const ek_depthwise_conv_params *p, const int8_t *img, int32_t iy0, int32_t ix0,
                              int8_t *o) {
  int32_t ky0, ky1, kx0, kx1, oc, ky, kx;
  ek_tap_range(iy0, p->k_h, p->dil_h, p->in_h, &ky0, &ky1);
  ek_tap_range(ix0, p->k_w, p->dil_w, p->in_w, &kx0, &kx1);
  for (oc = 0; oc < p->out_c; ++oc) {
    const int8_t *x = img + oc / p->depth_mult;
    int32_t a = p->bias[oc];
    for (ky = ky0; ky < ky1; ++ky) {
      const int32_t iy = iy0 + ky * p->dil_h;
      for (kx = kx0; kx < kx1; ++kx) {
        const int32_t ix = ix0 + kx * p->dil_w;
        a += ((int32_t)x[((size_t)iy * p->in_w + ix) * p->in_c] + p->input_offset) *
             (int32_t)p->weights[((size_t)ky * p->k_w + kx) * p->out_c + oc];
      }
    }
    ek_requant_run(&a, p->mult + oc, p->shift + oc, 1, p->output_offset, p->act_min, p->act_max, o + oc);
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

EK_COLD int ek_dw_inplace(const ek_depthwise_conv_params *p, int8_t *data, ek_scratch scratch) {
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
        ek_requant_run(&acc, p->mult + c, p->shift + c, 1, p->output_offset, p->act_min, p->act_max,
                       tmp + oy * p->out_w + ox);
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
