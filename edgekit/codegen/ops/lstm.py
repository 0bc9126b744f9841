"""UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations x int8 weights, int16 cell state (TFLite Micro's
integer LSTM: the standard Keras cell, no peephole, projection, layer norm or CIFG).

Per time step and gate: two fully connected layers (input and previous hidden state) into
int16 at scale 2^-12, added with saturation, then a 16-bit sigmoid (tanh for the cell gate);
cell = forget * cell + input * cell_gate, clipped; hidden = tanh(cell) * output gate, requantized
to the hidden state's int8 scale. Hidden and cell state are variable tensors: they persist from
one invoke to the next (see the generated <name>_reset()). The scales come from the hidden and
cell state tensors, as in TFLite Micro, whose kernel reads none of the operator's intermediates
(in converter output the last one, the effective hidden scale, equals the hidden state's).
"""

from __future__ import annotations

import math

import numpy as np

from edgekit.codegen.layer import ConstArray, KernelSpec, Layer, Refusal
from edgekit.codegen.tables import sigmoid_table_q16
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.codegen.quantmath import f32, fc_per_tensor_multiplier, mbqm, quantize_multiplier, wrap32
from edgekit.tflite.ir import Operator

GATES = ("input", "forget", "cell", "output")     # TFLite's order of the weights and biases
_INPUT_W, _REC_W, _BIAS = 1, 5, 12                # first index of each group of four inputs
_PEEPHOLE, _PROJECTION, _LAYER_NORM = (9, 10, 11), (16, 17), (20, 21, 22, 23)
_HIDDEN, _CELL = 18, 19
_GATE_SCALE = 2.0 ** -12                          # fully connected outputs: Q3.12
_ACT_SCALE = 2.0 ** -15                           # sigmoid / tanh outputs: Q0.15

KERNEL = KernelSpec(
    file="ek_lstm.c", struct="ek_lstm_params",
    fields=(("int32_t", "time_major"), ("int32_t", "batches"), ("int32_t", "time_steps"),
            ("int32_t", "input_size"), ("int32_t", "hidden_size"), ("int32_t", "input_offset"),
            ("int32_t", "hidden_offset"), ("int32_t", "cell_gate_sigmoid"),
            ("const int8_t *", "input_weights[4]"), ("const int8_t *", "recurrent_weights[4]"),
            ("const int32_t *", "bias[4]"), ("const int32_t *", "input_bias_eff[4]"),
            ("const int32_t *", "recurrent_bias_eff[4]"),
            ("int32_t", "input_mult[4]"), ("int32_t", "input_shift[4]"),
            ("int32_t", "recurrent_mult[4]"), ("int32_t", "recurrent_shift[4]"),
            ("int32_t", "forget_mult"), ("int32_t", "forget_shift"), ("int32_t", "input_gate_mult"),
            ("int32_t", "input_gate_shift"), ("int32_t", "cell_clip"), ("int32_t", "cell_scale_power"),
            ("int32_t", "tanh_mult"), ("int32_t", "tanh_shift"), ("int32_t", "hidden_mult"),
            ("int32_t", "hidden_shift"), ("int32_t", "cmsis_exact"),
            ("const uint16_t *", "sigmoid_table")),
    prototypes=("int ek_lstm_s8(const ek_lstm_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, "
                "int8_t *out, ek_scratch scratch)",),
    cmsis_nn=True)


def mul_multiplier(scale_a: float, scale_b: float, scale_out: float) -> tuple[int, int]:
    """CreateInterGateMulParams: (a * b) / out in double from the float32 scales."""
    return quantize_multiplier(float(f32(scale_a)) * float(f32(scale_b)) / float(f32(scale_out)))


def tanh16_params(input_scale_power: int) -> tuple[int, int]:
    """(multiplier, right shift) of TFLite's int16 tanh for an input of scale 2^power: the input
    is brought to Q3.12 times 3 (the table's argument scaling)."""
    left = 15 + input_scale_power - 3
    return (3, -left) if left < 0 else (3 << left, 0)


def _weights(ctx: LowerCtx, i: int, rows: int, cols: int, what: str) -> tuple[np.ndarray, float]:
    ctx.dtype(i)
    w = ctx.const(i)
    if w.shape != (rows, cols):
        raise Refusal(f"{what} weights have shape {w.shape}, expected {(rows, cols)}")
    q = ctx.t(i).quant
    if q is None or q.per_channel or np.any(q.zero_point != 0):
        raise Refusal(f"{what} weights must be symmetric per-tensor int8")
    return w, float(q.scale[0])


def _fc_range(w: np.ndarray, bias_eff: list[int], mult: int, shift: int) -> int:
    """Largest |requantized product| any int8 vector can give (the accumulator is monotonic in
    each input, so the extremes take every input at -128 or 127)."""
    w64 = w.astype(np.int64)
    hi = np.asarray(bias_eff, np.int64) + np.where(w64 > 0, 127 * w64, -128 * w64).sum(1)
    lo = np.asarray(bias_eff, np.int64) + np.where(w64 > 0, -128 * w64, 127 * w64).sum(1)
    if max(int(np.abs(hi).max()), int(np.abs(lo).max())) >= 1 << 31:
        return 1 << 31
    return max(abs(mbqm(int(v), mult, shift)) for v in np.concatenate([hi, lo]))


def cmsis_lstm_is_exact(arrays: dict[str, list], input_gate_mul: tuple[int, int], cell_clip: int) -> bool:
    """True when arm_lstm_unidirectional_s8 provably equals TFLite Micro on every input: no gate
    product leaves the int16 range (CMSIS-NN clamps only their sum), input x cell gate fits int16
    (CMSIS-NN adds it to the cell before clamping) and the cell is clipped (CMSIS-NN clamps to
    +-clip, TFLite Micro's saturation reaches -32768)."""
    # the input gate is a sigmoid (0 .. 32767), the cell gate a tanh or sigmoid (-32768 .. 32767)
    if cell_clip <= 0 or max(abs(mbqm(32767 * v, *input_gate_mul)) for v in (-32768, 32767)) > 32767:
        return False
    for g in range(4):
        for kind in ("input", "recurrent"):
            w = arrays[f"{kind}_weights"][g].values.reshape(len(arrays[f"{kind}_bias_eff"][g].values), -1)
            if _fc_range(w, list(arrays[f"{kind}_bias_eff"][g].values), arrays[f"{kind}_mult"][g],
                         arrays[f"{kind}_shift"][g]) > 32767:
                return False
    return True


@lowering("UNIDIRECTIONAL_SEQUENCE_LSTM")
def lower_lstm(ctx: LowerCtx, op: Operator) -> Layer:
    ins = tuple(op.inputs) + (-1,) * (24 - len(op.inputs))
    x, y = ins[0], op.outputs[0]
    ctx.dtype(x)
    ctx.dtype(y)
    h_i, c_i = ins[_HIDDEN], ins[_CELL]
    for i, what in ((h_i, "hidden"), (c_i, "cell")):
        if i < 0 or not ctx.t(i).is_variable:
            raise Refusal(f"the {what} state must be a variable tensor")
    ctx.dtype(h_i)
    ctx.dtype(c_i, ("int16",))
    for group, what in ((_PEEPHOLE, "peephole"), (_PROJECTION, "projection"), (_LAYER_NORM, "layer norm")):
        if any(ins[k] >= 0 for k in group):
            raise Refusal(f"LSTM with {what} weights is not supported (TFLite Micro has none either)")
    if ins[_INPUT_W] < 0 or ins[_REC_W] < 0:
        raise Refusal("LSTM without an input gate (CIFG) is not supported")
    o = op.options
    act = o.get("fused_activation_function", "TANH")
    if act not in ("TANH", "SIGMOID"):
        raise Refusal(f"cell gate activation {act} is not supported (TANH or SIGMOID)")
    time_major = bool(o.get("time_major", False))
    shape = ctx.shape(x)
    if len(shape) != 3:
        raise Refusal(f"input of rank {len(shape)}; [batch, time, features] expected")
    steps, batches = (shape[0], shape[1]) if time_major else (shape[1], shape[0])
    n_in = shape[2]
    hidden = ctx.t(h_i).num_elements // max(batches, 1)
    if ctx.t(h_i).num_elements != batches * hidden or ctx.t(c_i).num_elements != batches * hidden:
        raise Refusal("state sizes do not match the batch")
    if ctx.shape(y) != shape[:2] + (hidden,):
        raise Refusal(f"output shape {ctx.shape(y)} != {shape[:2] + (hidden,)}")
    s_x, z_x = ctx.qparams(x)
    s_h, z_h = ctx.qparams(h_i)
    s_c, z_c = ctx.qparams(c_i)
    if z_c != 0:
        raise Refusal(f"cell state zero point {z_c}; 0 expected")
    p = f"L{op.index}_"
    consts: list[ConstArray] = []
    arrays: dict[str, list] = {k: [] for k in ("input_weights", "recurrent_weights", "bias", "input_bias_eff",
                                               "recurrent_bias_eff", "input_mult", "input_shift",
                                               "recurrent_mult", "recurrent_shift")}
    for g, gate in enumerate(GATES):
        w, s_w = _weights(ctx, ins[_INPUT_W + g], hidden, n_in, f"input-to-{gate}")
        r, s_r = _weights(ctx, ins[_REC_W + g], hidden, hidden, f"recurrent-to-{gate}")
        b_i = ins[_BIAS + g]
        if b_i < 0:
            raise Refusal(f"the {gate} gate has no bias")
        ctx.dtype(b_i, ("int32",))
        bias = ctx.const(b_i).astype(np.int64).reshape(-1)
        if bias.size != hidden:
            raise Refusal(f"{gate} gate bias has {bias.size} values, expected {hidden}")
        m_in, sh_in = fc_per_tensor_multiplier(s_x, s_w, _GATE_SCALE)
        m_rec, sh_rec = fc_per_tensor_multiplier(s_h, s_r, _GATE_SCALE)
        in_eff = [wrap32(int(b) - z_x * int(s)) for b, s in zip(bias, w.astype(np.int64).sum(1))]
        rec_eff = [wrap32(-z_h * int(s)) for s in r.astype(np.int64).sum(1)]
        names = {}
        for key, ctype, vals in (("input_weights", "int8_t", w), ("recurrent_weights", "int8_t", r),
                                 ("bias", "int32_t", bias), ("input_bias_eff", "int32_t", in_eff),
                                 ("recurrent_bias_eff", "int32_t", rec_eff)):
            np_type = np.int8 if ctype == "int8_t" else np.int32
            arr = ConstArray(f"{p}{gate}_{key}", ctype, np.asarray(vals, np_type).reshape(-1))
            consts.append(arr)
            names[key] = arr
            arrays[key].append(arr)
        arrays["input_mult"].append(m_in)
        arrays["input_shift"].append(sh_in)
        arrays["recurrent_mult"].append(m_rec)
        arrays["recurrent_shift"].append(sh_rec)
    power = int(round(math.log2(float(f32(s_c)))))
    fm, fs = mul_multiplier(_ACT_SCALE, s_c, s_c)
    im, is_ = mul_multiplier(_ACT_SCALE, _ACT_SCALE, s_c)
    hm, hs = mul_multiplier(_ACT_SCALE, _ACT_SCALE, s_h)
    clip = float(f32(o.get("cell_clip", 0.0)))
    q_clip = int(min(max(clip / float(f32(s_c)), -32768.0), 32767.0)) if clip > 0 else 0
    tm, ts = tanh16_params(power)
    params = dict(time_major=int(time_major), batches=batches, time_steps=steps, input_size=n_in,
                  hidden_size=hidden, input_offset=-z_x, hidden_offset=z_h, cell_gate_sigmoid=int(act == "SIGMOID"),
                  **arrays, forget_mult=fm, forget_shift=fs, input_gate_mult=im, input_gate_shift=is_,
                  cell_clip=q_clip, cell_scale_power=power, tanh_mult=tm, tanh_shift=ts, hidden_mult=hm,
                  hidden_shift=hs)
    exact = cmsis_lstm_is_exact(arrays, (im, is_), q_clip)
    params["cmsis_exact"] = int(exact)
    table = ConstArray(f"{p}sigmoid_table", "uint16_t", sigmoid_table_q16())
    consts.append(table)
    params["sigmoid_table"] = table
    # CMSIS-NN: two (arm_lstm_unidirectional_s8) or three (per-product clamps) int16 buffers of one
    # step, of all batch rows of a step when time-major (kernels/cmsis_nn/ek_lstm.c).
    rows = batches if time_major else 1
    scratch = (2 if exact else 3) * 2 * rows * hidden
    return Layer(op.index, op.opcode, KERNEL, "ek_lstm_s8(&{p}, {in0}, {in1}, {in2}, {out0}, {scratch})",
                 tuple(params.items()), tuple(consts), (x, h_i, c_i), (y,), scratch_bytes=scratch,
                 summary=(f"{fmt_shape(shape)} -> {fmt_shape(ctx.shape(y))}, {hidden} units, "
                          f"{'time-major' if time_major else 'batch-major'}, cell gate {act}, cell clip "
                          f"{clip:g}, state: hidden int8, cell int16 (scale 2^{power})"))
