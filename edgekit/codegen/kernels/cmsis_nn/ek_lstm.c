/* UNIDIRECTIONAL_SEQUENCE_LSTM on CMSIS-NN, with the generated library's own hidden and cell
 * state buffers so that state persists between invokes (TFLite Micro semantics). Effective biases
 * (bias - input offset * row sums, and -hidden offset * row sums for the recurrent weights) were
 * computed at code generation.
 *
 * arm_lstm_unidirectional_s8 adds the input and recurrent products of a gate before clamping
 * them to int16, where TFLite Micro clamps each first. Code generation proves for each model
 * whether a gate product can leave the int16 range (p->cmsis_exact); if it cannot, the whole
 * layer runs as arm_lstm_unidirectional_s8 (scratch: two int16 gate buffers of one step).
 * Otherwise each product runs through CMSIS-NN's int8 x int8 -> int16 matrix-vector kernel on
 * its own (clamped as TFLite Micro does) and the element-wise part is the portable code
 * (scratch: three int16 buffers of one step). */
#define EK_REF_ONLY
#include "../portable/ek_lstm.c"

#include <string.h>

#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

static cmsis_nn_lstm_gate ek_cmsis_gate(const ek_lstm_params *p, int32_t g, arm_nn_activation_type act) {
  cmsis_nn_lstm_gate gate;
  gate.input_multiplier = p->input_mult[g];
  gate.input_shift = p->input_shift[g];
  gate.input_weights = p->input_weights[g];
  gate.input_effective_bias = p->input_bias_eff[g];
  gate.hidden_multiplier = p->recurrent_mult[g];
  gate.hidden_shift = p->recurrent_shift[g];
  gate.hidden_weights = p->recurrent_weights[g];
  gate.hidden_effective_bias = p->recurrent_bias_eff[g];
  gate.bias = p->bias[g];
  gate.activation_type = act;
  return gate;
}

/* gate = activation(sat16(clamp16(input product) + clamp16(recurrent product))), for `rows`
 * batch rows (contiguous in x) of one step; tmp: one more gate buffer. */
static void ek_lstm_gate_cmsis(const ek_lstm_params *p, int32_t g, int32_t rows, const int8_t *x, const int8_t *h,
                               int16_t *gate, int16_t *tmp) {
  const int32_t n = rows * p->hidden_size;
  int32_t k;
  memset(gate, 0, (size_t)n * sizeof(int16_t));
  memset(tmp, 0, (size_t)n * sizeof(int16_t));
  arm_nn_vec_mat_mul_result_acc_s8_s16(x, p->input_weights[g], p->input_bias_eff[g], gate, p->input_mult[g],
                                       p->input_shift[g], p->input_size, p->hidden_size, rows, 1);
  arm_nn_vec_mat_mul_result_acc_s8_s16(h, p->recurrent_weights[g], p->recurrent_bias_eff[g], tmp,
                                       p->recurrent_mult[g], p->recurrent_shift[g], p->hidden_size, p->hidden_size,
                                       rows, 1);
  for (k = 0; k < n; ++k) gate[k] = (int16_t)ek_lstm_gate_act(p, g, ek_clamp16((int32_t)gate[k] + tmp[k]));
}

/* One step with TFLite Micro's per-product clamps, three gate buffers: the forget gate is applied
 * to the cell at once, the input and cell gates next, then the output gate. */
static void ek_lstm_step_cmsis(const ek_lstm_params *p, int32_t rows, const int8_t *x, int8_t *h, int16_t *cell,
                               int8_t *out, int16_t *buf) {
  const int32_t n = rows * p->hidden_size;
  int16_t *a = buf, *b = buf + n, *tmp = buf + 2 * n;
  int32_t k;
  ek_lstm_gate_cmsis(p, 1, rows, x, h, a, tmp);
  for (k = 0; k < n; ++k) cell[k] = (int16_t)ek_lstm_forget(p, a[k], cell[k]);
  ek_lstm_gate_cmsis(p, 0, rows, x, h, a, tmp);
  ek_lstm_gate_cmsis(p, 2, rows, x, h, b, tmp);
  for (k = 0; k < n; ++k) cell[k] = ek_lstm_cell(p, cell[k], a[k], b[k]);
  ek_lstm_gate_cmsis(p, 3, rows, x, h, a, tmp);
  for (k = 0; k < n; ++k) out[k] = ek_lstm_hidden(p, cell[k], a[k]);
  memcpy(h, out, (size_t)n);
}

static int ek_lstm_composed(const ek_lstm_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                            ek_scratch scratch) {
  const int32_t rows = p->time_major ? p->batches : 1;
  const int32_t n_in = p->input_size, n_h = p->hidden_size;
  int32_t b, t;
  if (scratch.bytes < 3 * rows * n_h * (int32_t)sizeof(int16_t)) return EK_ERR_SCRATCH;
  for (b = 0; b < p->batches / rows; ++b) {
    for (t = 0; t < p->time_steps; ++t) {
      const int32_t row = p->time_major ? t * p->batches : b * p->time_steps + t;
      ek_lstm_step_cmsis(p, rows, in + (size_t)row * n_in, hidden + (size_t)b * n_h, cell + (size_t)b * n_h,
                         out + (size_t)row * n_h, (int16_t *)scratch.buf);
    }
  }
  return EK_OK;
}

int ek_lstm_s8(const ek_lstm_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
               ek_scratch scratch) {
  cmsis_nn_lstm_params lp;
  cmsis_nn_lstm_context ctx;
  const int32_t rows = p->time_major ? p->batches : 1;
  const int32_t gate_bytes = rows * p->hidden_size * (int32_t)sizeof(int16_t);
  if (!p->cmsis_exact) return ek_lstm_composed(p, in, hidden, cell, out, scratch);
  if (scratch.bytes < 2 * gate_bytes) return EK_ERR_SCRATCH;
  lp.time_major = p->time_major;
  lp.batch_size = p->batches;
  lp.time_steps = p->time_steps;
  lp.input_size = p->input_size;
  lp.hidden_size = p->hidden_size;
  lp.input_offset = p->input_offset;
  lp.forget_to_cell_multiplier = p->forget_mult;
  lp.forget_to_cell_shift = p->forget_shift;
  lp.input_to_cell_multiplier = p->input_gate_mult;
  lp.input_to_cell_shift = p->input_gate_shift;
  /* CMSIS-NN always clamps the cell to +-cell_clip; without a clip the int16 range applies */
  lp.cell_clip = p->cell_clip > 0 ? p->cell_clip : INT16_MAX;
  lp.cell_scale_power = p->cell_scale_power;
  lp.output_multiplier = p->hidden_mult;
  lp.output_shift = p->hidden_shift;
  lp.output_offset = p->hidden_offset;
  lp.input_gate = ek_cmsis_gate(p, 0, ARM_SIGMOID);
  lp.forget_gate = ek_cmsis_gate(p, 1, ARM_SIGMOID);
  lp.cell_gate = ek_cmsis_gate(p, 2, p->cell_gate_sigmoid ? ARM_SIGMOID : ARM_TANH);
  lp.output_gate = ek_cmsis_gate(p, 3, ARM_SIGMOID);
  ctx.temp1 = scratch.buf;
  ctx.temp2 = (int8_t *)scratch.buf + gate_bytes;
  ctx.cell_state = cell;
  ctx.hidden_state = hidden;
  return arm_lstm_unidirectional_s8(in, out, &lp, &ctx) == ARM_CMSIS_NN_SUCCESS ? EK_OK : EK_ERR_BACKEND;
}
