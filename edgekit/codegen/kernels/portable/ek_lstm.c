/* UNIDIRECTIONAL_SEQUENCE_LSTM: int8 input, output and hidden state, int8 weights, int16 cell
 * state, as TensorFlow Lite Micro's integer LSTM computes it.
 *
 * Per time step, batch row and unit j, for each gate g (input, forget, cell, output):
 *   pre_g = sat16(clamp16(fc(x, W_g[j])) + clamp16(fc(h_old, R_g[j])))   (Q3.12)
 * where fc = acc * multiplier with double rounding and acc carries the folded offsets and bias;
 * sigmoid / tanh of pre_g in Q0.15 by the interpolated 16-bit table below; then
 *   cell = clip(sat16(clamp16(f * cell) + clamp16(i * g)))   (each product requantized)
 *   h    = clamp8(tanh(cell) * o requantized + hidden zero point)
 * The new hidden values go to the output first and become the state once every unit of the row
 * is done, since all units read the old hidden state. No scratch. */
#include "ek_ops.h"

/* The interpolation table (sigmoid(i / 24) in 0.16 fixed point, i = 0..255) is generated with the
 * model by edgekit/codegen/tables.py and passed in the layer's parameters. */

/* |x| scaled by mult / 2^shift (rounded), the table's argument; *neg tells the sign. */
static uint32_t ek_act16_arg(int32_t x, int32_t mult, int32_t shift, int32_t *neg) {
  const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
  const int32_t v = (x * mult + round) >> shift;
  *neg = v < 0;
  return (uint32_t)(v < 0 ? -v : v);
}

/* Logistic of a Q3.12 value (scaled by 3/4 into the table's 1/24 steps), Q0.15 result. */
static int16_t ek_sigmoid16(const uint16_t *table, int32_t x, int32_t mult, int32_t shift) {
  int32_t neg;
  const uint32_t a = ek_act16_arg(x, mult, shift, &neg);
  const uint32_t hi = a >> 9;
  uint32_t r;
  if (hi >= 255) {
    r = (uint32_t)0x7FFF << 10;
  } else {
    const uint32_t lo = table[hi], up = table[hi + 1];
    r = (lo << 9) + (a & 0x1FF) * (up - lo);
  }
  r = neg ? ((uint32_t)1 << 25) - r + (1u << 9) - 1u : r + (1u << 9);
  return (int16_t)(r >> 10);
}

/* tanh(x) = 2 sigmoid(2x) - 1 from the same table, Q0.15 result. */
static int16_t ek_tanh16(const uint16_t *table, int32_t x, int32_t mult, int32_t shift) {
  int32_t neg;
  const uint32_t a = ek_act16_arg(x, mult, shift, &neg);
  const uint32_t hi = a >> 8;
  int32_t r;
  if (hi >= 255) {
    r = (int32_t)((uint32_t)0xFFFF << 8);
  } else {
    const uint32_t lo = table[hi], up = table[hi + 1];
    r = (int32_t)((lo << 8) + (a & 0xFF) * (up - lo));
  }
  r = neg ? -r + (1 << 23) + (1 << 7) - 1 : r - (1 << 23) + (1 << 7);
  return (int16_t)(r >> 8);
}

/* A vectorizable main loop over blocks of 64, then blocks of 16, 8 and 4 that compilers vectorize
 * with narrower registers: a loop vectorized for wide registers alone would run rows of 20 or 30
 * elements, and long rows' tails, scalar. */
#define EK_DOT_BLOCK(N)                                                       \
  for (; i + (N) <= n; i += (N)) {                                            \
    int32_t block = 0;                                                        \
    for (k = 0; k < (N); ++k) block += (int32_t)x[i + k] * (int32_t)w[i + k]; \
    acc += block;                                                             \
  }

static int32_t ek_lstm_dot(const int8_t *restrict x, const int8_t *restrict w, int32_t n) {
  const int32_t main_n = n & ~63;
  int32_t i, k, acc = 0;
  for (i = 0; i < main_n; ++i) acc += (int32_t)x[i] * (int32_t)w[i];
  EK_DOT_BLOCK(16)
  EK_DOT_BLOCK(8)
  EK_DOT_BLOCK(4)
  for (; i < n; ++i) acc += (int32_t)x[i] * (int32_t)w[i];
  return acc;
}

static int32_t ek_clamp16(int32_t v) { return EK_CLAMP(v, INT16_MIN, INT16_MAX); }

/* The cell update in TFLite Micro's order: forget * cell (requantized, clamped), then + input *
 * cell gate (requantized, clamped) with saturation, then the clip; and the new hidden value. */
static int32_t ek_lstm_forget(const ek_lstm_params *p, int32_t fg, int32_t cell) {
  return ek_clamp16(ek_mbqm(fg * cell, p->forget_mult, p->forget_shift));
}

static int16_t ek_lstm_cell(const ek_lstm_params *p, int32_t forgotten, int32_t ig, int32_t gg) {
  int32_t c = ek_clamp16(forgotten + ek_clamp16(ek_mbqm(ig * gg, p->input_gate_mult, p->input_gate_shift)));
  if (p->cell_clip > 0) c = EK_CLAMP(c, -p->cell_clip, p->cell_clip);
  return (int16_t)c;
}

static int8_t ek_lstm_hidden(const ek_lstm_params *p, int32_t cell, int32_t og) {
  const int32_t v = ek_mbqm(ek_tanh16(p->sigmoid_table, cell, p->tanh_mult, p->tanh_shift) * og, p->hidden_mult, p->hidden_shift) +
                    p->hidden_offset;
  return (int8_t)EK_CLAMP(v, INT8_MIN, INT8_MAX);
}

/* The activation of gate g's Q3.12 pre-activation (sigmoid / tanh read Q3.12: multiplier 3, no shift). */
static int32_t ek_lstm_gate_act(const ek_lstm_params *p, int32_t g, int32_t pre) {
  return (g == 2 && !p->cell_gate_sigmoid) ? ek_tanh16(p->sigmoid_table, pre, 3, 0)
                                           : ek_sigmoid16(p->sigmoid_table, pre, 3, 0);
}

/* One time step of one batch row: x [input_size], h [hidden] (old, then new), cell [hidden]. */
static void ek_lstm_step(const ek_lstm_params *p, const int8_t *x, int8_t *h, int16_t *cell, int8_t *out) {
  const int32_t n_in = p->input_size, n_h = p->hidden_size;
  int32_t j, g;
  for (j = 0; j < n_h; ++j) {
    int32_t gate[4];
    for (g = 0; g < 4; ++g) {
      const int32_t a = ek_lstm_dot(x, p->input_weights[g] + (size_t)j * n_in, n_in) + p->input_bias_eff[g][j];
      const int32_t b = ek_lstm_dot(h, p->recurrent_weights[g] + (size_t)j * n_h, n_h) + p->recurrent_bias_eff[g][j];
      gate[g] = ek_lstm_gate_act(p, g, ek_clamp16(ek_clamp16(ek_mbqm(a, p->input_mult[g], p->input_shift[g])) +
                                                  ek_clamp16(ek_mbqm(b, p->recurrent_mult[g], p->recurrent_shift[g]))));
    }
    cell[j] = ek_lstm_cell(p, ek_lstm_forget(p, gate[1], cell[j]), gate[0], gate[2]);
    out[j] = ek_lstm_hidden(p, cell[j], gate[3]);
  }
  for (j = 0; j < n_h; ++j) h[j] = out[j];
}

EK_REF int ek_lstm_s8_ref(const ek_lstm_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                          ek_scratch scratch) {
  const int32_t n_in = p->input_size, n_h = p->hidden_size;
  int32_t b, t;
  (void)scratch;
  for (b = 0; b < p->batches; ++b) {
    for (t = 0; t < p->time_steps; ++t) {
      const int32_t row = p->time_major ? t * p->batches + b : b * p->time_steps + t;
      ek_lstm_step(p, in + (size_t)row * n_in, hidden + (size_t)b * n_h, cell + (size_t)b * n_h,
                   out + (size_t)row * n_h);
    }
  }
  return EK_OK;
}

#ifndef EK_REF_ONLY
int ek_lstm_s8(const ek_lstm_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
               ek_scratch scratch) {
  return ek_lstm_s8_ref(p, in, hidden, cell, out, scratch);
}
#endif
