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

#ifdef __cplusplus
}
#endif

#endif /* EK_KERNELS_H */
