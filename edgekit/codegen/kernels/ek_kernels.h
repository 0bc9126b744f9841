/* edgekit kernel support: types, error codes and TFLite-exact integer arithmetic.
 *
 * Shipped unchanged into every generated library. Written for edgekit; the arithmetic follows the
 * published definitions used by TensorFlow Lite (Micro) reference kernels so that results are
 * bit-exact: a rounding doubling high multiply, a rounding power-of-two division (ties away from
 * zero) and their composition "multiply by quantized multiplier" with double rounding. */
#ifndef EK_KERNELS_H
#define EK_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EK_OK 0
#define EK_ERR_SCRATCH (-1)     /* scratch buffer smaller than the kernel needs */
#define EK_ERR_BACKEND (-2)     /* the kernel backend refused the arguments */

#define EK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define EK_MAX(a, b) ((a) > (b) ? (a) : (b))
#define EK_CLAMP(x, lo, hi) EK_MIN(EK_MAX((x), (lo)), (hi))

#if defined(__GNUC__) || defined(__clang__)
#define EK_ALIGN(n) __attribute__((aligned(n)))
#define EK_REF static __attribute__((unused)) /* a kernel's reference implementation */
#else
#define EK_ALIGN(n)
#define EK_REF static
#endif

/* Scratch memory handed to a kernel: a slice of the model's arena, valid during one call. */
typedef struct {
  void *buf;
  int32_t bytes;
} ek_scratch;

static inline ek_scratch ek_scratch_at(void *buf, int32_t bytes) {
  ek_scratch s;
  s.buf = buf;
  s.bytes = bytes;
  return s;
}

/* (a * b * 2) / 2^32 rounded to nearest, ties away from zero; INT32_MIN * INT32_MIN saturates. */
static inline int32_t ek_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t nudge = ab >= 0 ? (int64_t)(1 << 30) : (int64_t)(1 - (1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* truncating division is intended */
}

/* x / 2^e rounded to nearest, ties away from zero; 0 <= e <= 31. */
static inline int32_t ek_rdbpot(int32_t x, int32_t e) {
  const int32_t mask = (int32_t)(((int64_t)1 << e) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

/* Shift left with two's-complement wrap, as the reference does for positive exponents. */
static inline int32_t ek_shl_wrap(int32_t x, int32_t s) {
  return (int32_t)((uint32_t)x << s);
}

/* x * multiplier * 2^shift with TFLite's double rounding (shift > 0 shifts left first). */
static inline int32_t ek_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  return ek_rdbpot(ek_srdhm(ek_shl_wrap(x, left), multiplier), right);
}

/* ek_mbqm for a non-negative multiplier, branch-free (see ek_requantize_block for why the high
 * multiply is a single rounding shift here). */
static inline int32_t ek_mbqm_pos(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  const int32_t xs = (int32_t)((uint32_t)x << left);
  const int32_t h = (int32_t)(((int64_t)xs * multiplier + ((int64_t)1 << 30)) >> 31);
  const int32_t mask = (int32_t)((1u << right) - 1u);
  const int32_t threshold = (mask >> 1) + (h < 0 ? 1 : 0);
  return (h >> right) + ((h & mask) > threshold ? 1 : 0);
}

/* ek_mbqm over a block of accumulators with per-channel multipliers (>= 0) and shifts, plus the
 * output offset and clamp, written without branches so that compilers vectorize it. It uses
 * that the rounding doubling high multiply equals floor((a * b + 2^30) / 2^31) (ties towards +inf,
 * which is what the reference's "nudge then truncate" computes); the saturating case needs
 * a == b == INT32_MIN, impossible with a non-negative multiplier. */
static inline void ek_requantize_block(const int32_t *acc, const int32_t *mult, const int32_t *shift,
                                       int32_t n, int32_t out_offset, int32_t act_min, int32_t act_max,
                                       int8_t *out) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    const int32_t s = shift[i];
    const int32_t left = s > 0 ? s : 0;
    const int32_t right = s > 0 ? 0 : -s;
    const int32_t x = (int32_t)((uint32_t)acc[i] << left);
    const int32_t h = (int32_t)(((int64_t)x * mult[i] + ((int64_t)1 << 30)) >> 31);
    const int32_t mask = (int32_t)((1u << right) - 1u);
    const int32_t threshold = (mask >> 1) + (h < 0 ? 1 : 0);
    int32_t v = (h >> right) + ((h & mask) > threshold ? 1 : 0) + out_offset;
    v = v < act_min ? act_min : v;
    v = v > act_max ? act_max : v;
    out[i] = (int8_t)v;
  }
}

/* acc[i] += x_value * w[i]. restrict: int8_t pointers may alias anything, which would otherwise
 * keep compilers from vectorizing. */
static inline void ek_mac_broadcast(int32_t *restrict acc, const int8_t *restrict w, int32_t x_value, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) acc[i] += x_value * (int32_t)w[i];
}

/* acc[i] += (x[i] + x_offset) * w[i] */
static inline void ek_mac_vector(int32_t *restrict acc, const int8_t *restrict x, const int8_t *restrict w,
                                 int32_t x_offset, int32_t n) {
  int32_t i;
  for (i = 0; i < n; ++i) acc[i] += ((int32_t)x[i] + x_offset) * (int32_t)w[i];
}

/* Kernel taps k in [*lo, *hi) whose input position origin + k * dilation lies in [0, size). */
static inline void ek_tap_range(int32_t origin, int32_t k, int32_t dilation, int32_t size, int32_t *lo,
                                int32_t *hi) {
  int32_t a = 0, b = k;
  if (origin < 0) a = (-origin + dilation - 1) / dilation;
  if (origin + (k - 1) * dilation >= size) b = (size - origin + dilation - 1) / dilation;
  if (b < a) b = a;
  *lo = a;
  *hi = b;
}

/* Saturating multiply by 2^e (e >= 0), as fixed-point rescaling to fewer integer bits. */
static inline int32_t ek_sat_shl(int32_t x, int32_t e) {
  const int32_t threshold = (int32_t)(((int64_t)1 << (31 - e)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return ek_shl_wrap(x, e);
}


/* ---- Fixed-point transcendental functions (gemmlowp's published algorithms, Q-format int32) ----
 * A value with k integer bits is raw / 2^(31-k). These are used by SOFTMAX, LOGISTIC and TANH. */

static inline int32_t ek_rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  const int64_t sign = sum >= 0 ? 1 : -1;
  return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a in [-1/4, 0), a and result with 0 integer bits: Taylor series around -1/8. */
static inline int32_t ek_exp_on_interval_neg_quarter_0(int32_t a) {
  const int32_t exp_minus_one_eighth = 1895147668;
  const int32_t one_third = 715827883;
  const int32_t x = a + (1 << 28);
  const int32_t x2 = ek_srdhm(x, x);
  const int32_t x3 = ek_srdhm(x2, x);
  const int32_t x4 = ek_srdhm(x2, x2);
  const int32_t x4_over_4 = ek_rdbpot(x4, 2);
  const int32_t poly = ek_rdbpot(ek_srdhm(x4_over_4 + x3, one_third) + x2, 1);
  return exp_minus_one_eighth + ek_srdhm(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0 given with `integer_bits` integer bits (<= 5); result has 0 integer bits. */
static inline int32_t ek_exp_on_negative_values(int32_t a, int32_t integer_bits) {
  /* exp(-2^k) for k = -2 .. 4 with 0 integer bits */
  static const int32_t exp_of_minus_pot[7] = {1672461947, 1302514674, 790015084, 290630308,
                                              39332535, 720401, 242};
  const int32_t fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
  const int32_t a_mod_quarter_minus_quarter = (a & (one_quarter - 1)) - one_quarter;
  int32_t result =
      ek_exp_on_interval_neg_quarter_0(ek_sat_shl(a_mod_quarter_minus_quarter, integer_bits));
  const int32_t remainder = a_mod_quarter_minus_quarter - a;
  int32_t k;
  for (k = -2; k <= 4; ++k) {
    if (integer_bits > k && (remainder & ((int32_t)1 << (fractional_bits + k))) != 0) {
      result = ek_srdhm(result, exp_of_minus_pot[k + 2]);
    }
  }
  return a == 0 ? INT32_MAX : result;
}

/* Newton-Raphson reciprocal: returns x ~ 1/half_denominator with 2 integer bits. */
static inline int32_t ek_reciprocal_q2(int32_t half_denominator) {
  int32_t x = 1515870810 + ek_srdhm(half_denominator, -1010580540); /* 48/17 - 32/17 * d */
  int i;
  for (i = 0; i < 3; ++i) {
    const int32_t one_minus_dx = ((int32_t)1 << 29) - ek_srdhm(half_denominator, x);
    x = x + ek_sat_shl(ek_srdhm(x, one_minus_dx), 2);
  }
  return x;
}

/* 1 / (1 + a) for a in [0, 1), 0 integer bits in and out. */
static inline int32_t ek_one_over_one_plus_x(int32_t a) {
  return ek_sat_shl(ek_reciprocal_q2(ek_rounding_half_sum(a, INT32_MAX)), 1);
}

/* (1 - a) / (1 + a) for a in [0, 1), 0 integer bits in and out. */
static inline int32_t ek_one_minus_x_over_one_plus_x(int32_t a) {
  return ek_sat_shl(ek_reciprocal_q2(ek_rounding_half_sum(a, INT32_MAX)) - ((int32_t)1 << 29), 2);
}

/* logistic(a), a with `integer_bits` integer bits, result with 0 integer bits. */
static inline int32_t ek_logistic_q(int32_t a, int32_t integer_bits) {
  if (a == 0) return (int32_t)1 << 30;
  {
    const int32_t abs_a = a > 0 ? a : -a;
    const int32_t positive = ek_one_over_one_plus_x(ek_exp_on_negative_values(-abs_a, integer_bits));
    return a > 0 ? positive : INT32_MAX - positive;
  }
}

/* tanh(a), a with `integer_bits` integer bits, result with 0 integer bits. */
static inline int32_t ek_tanh_q(int32_t a, int32_t integer_bits) {
  if (a == 0) return 0;
  {
    const int32_t neg_abs = a < 0 ? a : -a;
    /* exp(2 * neg_abs): same raw value read with one more integer bit */
    const int32_t t = ek_one_minus_x_over_one_plus_x(ek_exp_on_negative_values(neg_abs, integer_bits + 1));
    return a < 0 ? -t : t;
  }
}

static inline int32_t ek_clz32(uint32_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return x == 0 ? 32 : __builtin_clz(x);
#else
  int32_t n = 0;
  if (x == 0) return 32;
  while ((x & 0x80000000u) == 0) { x <<= 1; ++n; }
  return n;
#endif
}

/* ---- Armv7E-M / Armv8-M DSP helpers (SIMD on two 16-bit lanes) ------------------------------
 * Kernels take their fast paths when EK_DSP is 1: on cores with the DSP extension, or anywhere
 * with EK_EMULATE_DSP defined (plain C with the instructions' exact semantics, so that host
 * tests run the very same algorithms). A word holds 4 int8 b0..b3 (little-endian); "even" lanes
 * are (b0, b2) and "odd" lanes (b1, b3), each sign-extended to 16 bits. All sums are exact int32
 * sums, so only the order of additions differs from the plain loops. */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(EK_NO_DSP) && !defined(EK_EMULATE_DSP)
#include <arm_acle.h>
#define EK_DSP 1
static inline int32_t ek_even16(uint32_t w) { return __sxtb16((int32_t)w); }
/* x + (b1, b3): the rotation is part of the instruction (ACLE's __ror(x, 8) is a separate one) */
#if defined(__GNUC__) || defined(__clang__)
static inline int32_t ek_odd16(uint32_t w) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(w));
  return r;
}
static inline int32_t ek_odd16_add(int32_t pair, uint32_t w) {
  int32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(pair), "r"(w));
  return r;
}
#else
static inline int32_t ek_odd16(uint32_t w) { return __sxtb16((int32_t)((w >> 8) | (w << 24))); }
static inline int32_t ek_odd16_add(int32_t pair, uint32_t w) {
  return __sxtab16(pair, (int32_t)((w >> 8) | (w << 24)));
}
#endif
static inline int32_t ek_even16_add(int32_t pair, uint32_t w) { return __sxtab16(pair, (int32_t)w); }
static inline int32_t ek_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }
static inline int32_t ek_smlabb(int32_t a, int32_t b, int32_t acc) { return __smlabb(a, b, acc); }
static inline int32_t ek_smlatt(int32_t a, int32_t b, int32_t acc) { return __smlatt(a, b, acc); }
#elif defined(EK_EMULATE_DSP)
#define EK_DSP 1
static inline int32_t ek_pack16(int32_t lo, int32_t hi) {
  return (int32_t)(((uint32_t)(uint16_t)lo) | ((uint32_t)(uint16_t)hi << 16));
}
static inline int32_t ek_lo16(int32_t x) { return (int16_t)(uint16_t)((uint32_t)x & 0xffffu); }
static inline int32_t ek_hi16(int32_t x) { return (int16_t)(uint16_t)((uint32_t)x >> 16); }
static inline int32_t ek_b(uint32_t w, int i) { return (int8_t)(uint8_t)(w >> (8 * i)); }
static inline int32_t ek_even16(uint32_t w) { return ek_pack16(ek_b(w, 0), ek_b(w, 2)); }
static inline int32_t ek_odd16(uint32_t w) { return ek_pack16(ek_b(w, 1), ek_b(w, 3)); }
static inline int32_t ek_even16_add(int32_t pair, uint32_t w) {
  return ek_pack16(ek_lo16(pair) + ek_b(w, 0), ek_hi16(pair) + ek_b(w, 2));
}
static inline int32_t ek_odd16_add(int32_t pair, uint32_t w) {
  return ek_pack16(ek_lo16(pair) + ek_b(w, 1), ek_hi16(pair) + ek_b(w, 3));
}
static inline int32_t ek_smlad(int32_t a, int32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(ek_lo16(a) * ek_lo16(b) + ek_hi16(a) * ek_hi16(b)));
}
static inline int32_t ek_smlabb(int32_t a, int32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(ek_lo16(a) * ek_lo16(b)));
}
static inline int32_t ek_smlatt(int32_t a, int32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(ek_hi16(a) * ek_hi16(b)));
}
#else
#define EK_DSP 0
#endif

/* Hot DSP loops keep every value in a register only without GCC's first scheduling pass (which
 * raises register pressure and spills in the loop); other compilers need no hint. */
#if EK_DSP && defined(__GNUC__) && !defined(__clang__) && defined(__ARM_FEATURE_DSP)
#define EK_DSP_LOOP static __attribute__((noinline, unused, optimize("no-schedule-insns")))
#define EK_SHARED_LOOP __attribute__((weak, noinline, optimize("no-schedule-insns")))
#elif defined(__GNUC__) || defined(__clang__)
#define EK_DSP_LOOP static __attribute__((noinline, unused))
#define EK_SHARED_LOOP __attribute__((weak, noinline))
#else
#define EK_DSP_LOOP static
#define EK_SHARED_LOOP static
#endif
/* EK_SHARED_LOOP: a helper every kernel file may use, defined in each (this header) as a weak
 * symbol so that the linker keeps one copy. Rarely used variants are EK_COLD (built for size). */
#if defined(__GNUC__) || defined(__clang__)
#define EK_COLD static __attribute__((cold, noinline, unused))
#else
#define EK_COLD static
#endif

/* CMSIS-NN builds: on cores with the DSP extension and without Helium (Cortex-M4/M7/M33),
 * edgekit's convolution, depthwise and fully connected kernels measured fewer instructions than
 * CMSIS-NN's on every such layer of the MLPerf Tiny models (scripts/bench/mcu.py), so the
 * CMSIS-NN adapters run them there; define EK_CMSIS_NN_STRICT to call CMSIS-NN wherever it can. */
#if EK_DSP && !defined(__ARM_FEATURE_MVE) && !defined(EK_CMSIS_NN_STRICT)
#define EK_OWN_KERNELS_FIRST 1
#else
#define EK_OWN_KERNELS_FIRST 0
#endif

/* In-place layers by bands of output rows (the CMSIS-NN adapters): output rows [flushed, r) wait
 * in `staged`; those whose bytes no output row from r on reads as input (rows from
 * max(0, r * stride - pad) on) are copied to their place. Returns the new number of flushed rows. */
static inline int32_t ek_flush_rows(int8_t *data, int8_t *staged, int32_t flushed, int32_t r, int32_t out_h,
                                    int32_t stride, int32_t pad, size_t out_row, size_t in_row) {
  int32_t k = 0;
  while (flushed + k < r) {
    if (r < out_h && (size_t)(flushed + k + 1) * out_row > (size_t)EK_MAX(0, r * stride - pad) * in_row) break;
    ++k;
  }
  memcpy(data + (size_t)flushed * out_row, staged, (size_t)k * out_row);
  memmove(staged, staged + (size_t)k * out_row, (size_t)(r - flushed - k) * out_row);
  return flushed + k;
}

/* 4 int8 as one word; memcpy compiles to a single (unaligned-capable) load on Cortex-M. */
static inline uint32_t ek_load4(const int8_t *p) {
  uint32_t w;
  memcpy(&w, p, sizeof(w));
  return w;
}

/* ek_mbqm_pos (multiplier >= 0) + output offset + clamp, for one accumulator. Fast exact form
 * for the common case of a right shift (shift < 0) and |acc| < 2^30: the high multiply
 * floor((acc * m + 2^30) / 2^31) is (2 acc * m + 2^31) >> 32, and rounding v = h / 2^e half away
 * from zero is ((v + (v >> 31)) >> (e - 1) + 1) >> 1; nothing overflows in that range. */
#if defined(__GNUC__) || defined(__clang__)
#define EK_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define EK_LIKELY(x) (x)
#endif

/* (a * b + 2^31) >> 32: SMMULR on cores with the DSP extension */
static inline int32_t ek_mul_hi_round(int32_t a, int32_t b) {
#if EK_DSP && defined(__ARM_FEATURE_DSP) && (defined(__GNUC__) || defined(__clang__))
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
#else
  return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
#endif
}

static inline int32_t ek_requant1(int32_t acc, int32_t multiplier, int32_t shift, int32_t out_offset,
                                  int32_t act_min, int32_t act_max) {
  int32_t v;
  if (EK_LIKELY((int32_t)((uint32_t)shift & ~((uint32_t)acc + 0x40000000u)) < 0)) {
    const int32_t h = ek_mul_hi_round(acc * 2, multiplier);
    v = ((((h + (h >> 31)) >> (~shift)) + 1) >> 1) + out_offset;
  } else {
    v = ek_mbqm_pos(acc, multiplier, shift) + out_offset;
  }
  v = v < act_min ? act_min : v;
  return v > act_max ? act_max : v;
}

/* The kernels' shared loops (defined only where a kernel file asks for them, so that files
 * built for size do not carry, and the linker never picks, a slower copy). */
#ifdef EK_KERNEL_LOOPS
/* out[i] = ek_requant1(acc[i], mult[i], shift[i], ...) for i < n: a loop that keeps every constant
 * in a register (kernels collect a pixel's accumulators first, then requantize them here). */
EK_SHARED_LOOP void ek_requant_run(const int32_t *acc, const int32_t *mult, const int32_t *shift, int32_t n,
                                       int32_t out_offset, int32_t act_min, int32_t act_max, int8_t *out) {
  const int32_t *end = acc + n;
  if (acc != end) do {
    *out++ = (int8_t)ek_requant1(*acc++, *mult++, *shift++, out_offset, act_min, act_max);
  } while (acc != end);
}

#if EK_DSP
/* acc[r] += dot(x, w + r * n), r = 0..3, over n int8: rows of a weight matrix against one input
 * vector (a fully connected layer, or a convolution's patch). Each input word is sign-extended
 * once for the four rows: 25 instructions per 16 MACs on Armv7E-M. */
EK_SHARED_LOOP void ek_dot4_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t *acc) {
  const int8_t *xend = x + (n & ~3);
  const int8_t *w1 = w + n, *w2 = w + 2 * n, *w3 = w + 3 * n;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], i;
  if (x != xend) do { /* loops test at the bottom, also in -Os builds */
    const uint32_t xv = ek_load4(x);
    const int32_t xe = ek_even16(xv), xo = ek_odd16(xv);
    uint32_t wv;
    x += 4;
    wv = ek_load4(w);
    w += 4;
    a0 = ek_smlad(xe, ek_even16(wv), a0);
    a0 = ek_smlad(xo, ek_odd16(wv), a0);
    wv = ek_load4(w1);
    w1 += 4;
    a1 = ek_smlad(xe, ek_even16(wv), a1);
    a1 = ek_smlad(xo, ek_odd16(wv), a1);
    wv = ek_load4(w2);
    w2 += 4;
    a2 = ek_smlad(xe, ek_even16(wv), a2);
    a2 = ek_smlad(xo, ek_odd16(wv), a2);
    wv = ek_load4(w3);
    w3 += 4;
    a3 = ek_smlad(xe, ek_even16(wv), a3);
    a3 = ek_smlad(xo, ek_odd16(wv), a3);
  } while (x != xend);
  for (i = 0; i < (n & 3); ++i) {
    const int32_t v = x[i];
    a0 += v * w[i];
    a1 += v * w1[i];
    a2 += v * w2[i];
    a3 += v * w3[i];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

/* Two pixels' patches widened to 16-bit lanes and interleaved word by word, so that one pointer
 * walks both: for every 4 patch bytes, words (A even, A odd, B even, B odd). The k & 3 last bytes
 * of each patch follow as plain int8 (A's word, then B's word). ek_pair_words(k) words in all. */
static inline int32_t ek_pair_words(int32_t k) { return 4 * (k >> 2) + 2; }

/* Patch `src` (k int8) into the A (lane 0) or B (lane 1) slots of a pair buffer. */
static inline void ek_widen_s8(const int8_t *src, int32_t k, int32_t *pair, int32_t lane) {
  int32_t *dst = pair + 2 * lane, *end = pair + 4 * (k >> 2);
  int8_t *tail = (int8_t *)(end + lane);
  int32_t i;
  for (; dst != end + 2 * lane; dst += 4, src += 4) {
    const uint32_t v = ek_load4(src);
    dst[0] = ek_even16(v);
    dst[1] = ek_odd16(v);
  }
  for (i = 0; i < (k & 3); ++i) tail[i] = src[i];
}

/* acc = {A.w0, A.w1, B.w0, B.w1} += dot products of a pair buffer (two pixels) with weight rows
 * w and w + k: each weight word is extended once for two pixels, each pixel word once for two
 * rows; 18 instructions per 16 MACs on Armv7E-M. */
EK_SHARED_LOOP void ek_dot2x2_s16(const int32_t *x, const int8_t *w, int32_t k, int32_t *acc) {
  const int32_t *end = x + 4 * (k >> 2);
  const int8_t *w1 = w + k, *ta, *tb;
  int32_t a0 = acc[0], a1 = acc[1], b0 = acc[2], b1 = acc[3], t;
  if (x != end) do {
    const int32_t xae = x[0], xao = x[1], xbe = x[2], xbo = x[3];
    uint32_t wv = ek_load4(w);
    int32_t we = ek_even16(wv), wo = ek_odd16(wv);
    x += 4;
    w += 4;
    a0 = ek_smlad(xae, we, a0);
    a0 = ek_smlad(xao, wo, a0);
    b0 = ek_smlad(xbe, we, b0);
    b0 = ek_smlad(xbo, wo, b0);
    wv = ek_load4(w1);
    w1 += 4;
    we = ek_even16(wv);
    wo = ek_odd16(wv);
    a1 = ek_smlad(xae, we, a1);
    a1 = ek_smlad(xao, wo, a1);
    b1 = ek_smlad(xbe, we, b1);
    b1 = ek_smlad(xbo, wo, b1);
  } while (x != end);
  ta = (const int8_t *)end;
  tb = ta + 4;
  for (t = 0; t < (k & 3); ++t) {
    a0 += ta[t] * w[t];
    a1 += ta[t] * w1[t];
    b0 += tb[t] * w[t];
    b1 += tb[t] * w1[t];
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = b0;
  acc[3] = b1;
}

/* dot(x, w) over n int8 */
EK_SHARED_LOOP int32_t ek_dot1_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t acc) {
  const int8_t *xend = x + (n & ~3);
  int32_t i;
  if (x != xend) do {
    const uint32_t xv = ek_load4(x), wv = ek_load4(w);
    x += 4;
    w += 4;
    acc = ek_smlad(ek_even16(xv), ek_even16(wv), acc);
    acc = ek_smlad(ek_odd16(xv), ek_odd16(wv), acc);
  } while (x != xend);
  for (i = 0; i < (n & 3); ++i) acc += (int32_t)x[i] * w[i];
  return acc;
}
#endif
#endif /* EK_KERNEL_LOOPS */

#ifdef __cplusplus
}
#endif

#endif /* EK_KERNELS_H */
