"""FULLY_CONNECTED, int8 x int8 -> int8 with int32 bias, per-tensor or per-channel weights."""

from __future__ import annotations

import numpy as np

from edgekit.codegen.layer import ConstArray, KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.codegen.quantmath import activation_range, conv_multipliers, fc_per_tensor_multiplier, wrap32
from edgekit.tflite.ir import Operator

KERNEL = KernelSpec(
    file="ek_fully_connected.c", struct="ek_fully_connected_params",
    fields=tuple(("int32_t", n) for n in (
        "batches", "in_depth", "out_depth", "input_offset", "output_offset", "act_min", "act_max",
        "per_channel")) + (("const int8_t *", "weights"), ("const int32_t *", "bias"),
                           ("const int32_t *", "bias_eff"), ("const int32_t *", "mult"),
                           ("const int32_t *", "shift")),
    prototypes=("int ek_fully_connected_s8(const ek_fully_connected_params *p, const int8_t *in, int8_t *out, "
                "ek_scratch scratch)",),
    cmsis_nn=True)


@lowering("FULLY_CONNECTED")
def lower_fully_connected(ctx: LowerCtx, op: Operator) -> Layer:
    x, w_i, b_i = op.inputs[0], op.inputs[1], (op.inputs[2] if len(op.inputs) > 2 else -1)
    y = op.outputs[0]
    ctx.dtype(x)
    ctx.dtype(y)
    ctx.dtype(w_i)
    if op.options.get("weights_format", "DEFAULT") != "DEFAULT":
        raise Refusal(f"weights format {op.options['weights_format']} is not supported")
    w = ctx.const(w_i)
    if w.ndim != 2:
        raise Refusal(f"weights of rank {w.ndim}; rank 2 expected")
    out_depth, in_depth = w.shape
    n_in = ctx.t(x).num_elements
    if n_in % in_depth:
        raise Refusal(f"input of {n_in} elements is not a multiple of the weights' depth {in_depth}")
    batches = n_in // in_depth
    if ctx.t(y).num_elements != batches * out_depth:
        raise Refusal(f"output has {ctx.t(y).num_elements} elements, expected {batches * out_depth}")
    wq = ctx.t(w_i).quant
    if wq is None or np.any(wq.zero_point != 0):
        raise Refusal("weights must be symmetric int8 (zero point 0)")
    s_in, z_in = ctx.qparams(x)
    s_out, z_out = ctx.qparams(y)
    act = ctx.activation(op)
    lo, hi = activation_range(act, s_out, z_out, "int8")
    if wq.per_channel:
        if wq.axis != 0:
            raise Refusal(f"per-channel weights quantized along axis {wq.axis}, expected 0")
        mult, shift = conv_multipliers(s_in, wq.scale, s_out, out_depth)
    else:
        m, s = fc_per_tensor_multiplier(s_in, float(wq.scale[0]), s_out)
        mult, shift = [m] * out_depth, [s] * out_depth
    if b_i >= 0 and ctx.t(b_i).dtype != "int32":
        raise Refusal(f"bias is {ctx.t(b_i).dtype}; int32 is supported")
    bias = np.zeros(out_depth, np.int64) if b_i < 0 else ctx.const(b_i).astype(np.int64).reshape(-1)
    bias_eff = [wrap32(int(b) - z_in * int(s)) for b, s in zip(bias, w.astype(np.int64).sum(axis=1))]
    p = f"L{op.index}_"
    consts = (ConstArray(p + "weights", "int8_t", w.reshape(-1).astype(np.int8)),
              ConstArray(p + "bias", "int32_t", bias.astype(np.int32)),
              ConstArray(p + "bias_eff", "int32_t", np.asarray(bias_eff, np.int32)),
              ConstArray(p + "mult", "int32_t", np.asarray(mult, np.int32)),
              ConstArray(p + "shift", "int32_t", np.asarray(shift, np.int32)))
    params = dict(batches=batches, in_depth=in_depth, out_depth=out_depth, input_offset=-z_in,
                  output_offset=z_out, act_min=lo, act_max=hi, per_channel=int(wq.per_channel),
                  weights=consts[0], bias=consts[1], bias_eff=consts[2], mult=consts[3], shift=consts[4])
    return Layer(op.index, op.opcode, KERNEL, "ek_fully_connected_s8(&{p}, {in0}, {out0}, {scratch})",
                 tuple(params.items()), consts, (x,), (y,), scratch_bytes=0,
                 summary=(f"{fmt_shape(ctx.shape(x))} -> {fmt_shape(ctx.shape(y))}, {in_depth} -> {out_depth}, "
                          f"{act}, {'per-channel' if wq.per_channel else 'per-tensor'}"))
