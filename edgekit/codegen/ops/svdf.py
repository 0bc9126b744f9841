"""SVDF, int8 input and output, int8 feature weights, int8 or int16 time weights and state (TFLite
Micro's integer SVDF). The state is a variable tensor: a window of the last `memory` feature
activations per filter, shifted by one each invoke and kept between invokes."""

from __future__ import annotations

import numpy as np

from edgekit.codegen.layer import ConstArray, KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.codegen.quantmath import f32, quantize_multiplier, wrap32
from edgekit.tflite.ir import Operator

_FIELDS = tuple(("int32_t", n) for n in (
    "batches", "input_size", "filters", "memory", "rank", "units", "input_offset", "state_zero_point",
    "output_offset", "feature_mult", "feature_shift", "output_mult", "output_shift"))
KERNEL = KernelSpec(
    file="ek_svdf.c", struct="ek_svdf_params",
    fields=_FIELDS + (("const int8_t *", "feature_weights"), ("const void *", "time_weights"),
                      ("const int32_t *", "bias"), ("const int32_t *", "kernel_sum")),
    prototypes=("int ek_svdf_s8(const ek_svdf_params *p, const int8_t *in, int8_t *state, int8_t *out, "
                "ek_scratch scratch)",
                "int ek_svdf_s8_s16(const ek_svdf_params *p, const int8_t *in, int16_t *state, int8_t *out, "
                "ek_scratch scratch)"),
    cmsis_nn=True)


def svdf_multiplier(a: float, b: float, c: float) -> tuple[int, int]:
    """TFLite Micro's SVDF Prepare forms a * b / c in float32, then quantizes it in double."""
    return quantize_multiplier(float((f32(a) * f32(b)) / f32(c)))


@lowering("SVDF")
def lower_svdf(ctx: LowerCtx, op: Operator) -> Layer:
    if len(op.inputs) < 5:
        raise Refusal("SVDF needs 5 inputs (input, feature weights, time weights, bias, state)")
    x, wf_i, wt_i, b_i, s_i = op.inputs[:5]
    y = op.outputs[0]
    ctx.dtype(x)
    ctx.dtype(y)
    ctx.dtype(wf_i)
    state_type = ctx.dtype(s_i, ("int8", "int16"))
    ctx.dtype(wt_i, (state_type,))
    if not ctx.t(s_i).is_variable:
        raise Refusal("the SVDF state must be a variable tensor")
    wf, wt = ctx.const(wf_i), ctx.const(wt_i)
    if len(ctx.shape(x)) != 2 or wt.ndim != 2:
        raise Refusal(f"input of rank {len(ctx.shape(x))}, time weights of rank {wt.ndim}; 2 and 2 expected")
    batches, n_in = ctx.shape(x)
    filters, memory = wt.shape
    rank = int(op.options.get("rank", 1))
    if wf.shape != (filters, n_in) or rank < 1 or filters % rank:
        raise Refusal(f"feature weights {wf.shape} / time weights {wt.shape} / rank {rank} do not fit")
    units = filters // rank
    if ctx.t(s_i).num_elements != batches * filters * memory or ctx.t(y).num_elements != batches * units:
        raise Refusal("state or output size does not match the weights")
    for i in (wf_i, wt_i):
        q = ctx.t(i).quant
        if q is None or q.per_channel or np.any(q.zero_point != 0):
            raise Refusal("weights must be symmetric per-tensor")
    s_in, z_in = ctx.qparams(x)
    s_st, z_st = ctx.qparams(s_i)
    s_out, z_out = ctx.qparams(y)
    m1, sh1 = svdf_multiplier(s_in, float(ctx.t(wf_i).quant.scale[0]), s_st)
    m2, sh2 = svdf_multiplier(s_st, float(ctx.t(wt_i).quant.scale[0]), s_out)
    if b_i >= 0:
        ctx.dtype(b_i, ("int32",))
        bias = ctx.const(b_i).astype(np.int32).reshape(-1)
        if bias.size != units:
            raise Refusal(f"bias has {bias.size} values, expected {units}")
    else:
        bias = np.zeros(units, np.int32)
    p = f"L{op.index}_"
    wt_ctype = "int8_t" if state_type == "int8" else "int16_t"
    consts = (ConstArray(p + "feature_weights", "int8_t", wf.astype(np.int8).reshape(-1)),
              ConstArray(p + "time_weights", wt_ctype, wt.reshape(-1)),
              ConstArray(p + "bias", "int32_t", bias),
              # -input zero point x row sums of the feature weights, what CMSIS-NN's Helium code adds
              ConstArray(p + "kernel_sum", "int32_t", np.asarray(
                  [wrap32(-z_in * int(s)) for s in wf.astype(np.int64).sum(1)], np.int32)))
    params = dict(batches=batches, input_size=n_in, filters=filters, memory=memory, rank=rank, units=units,
                  input_offset=-z_in, state_zero_point=z_st, output_offset=z_out, feature_mult=m1, feature_shift=sh1,
                  output_mult=m2, output_shift=sh2, feature_weights=consts[0], time_weights=consts[1],
                  bias=consts[2], kernel_sum=consts[3])
    fn = "ek_svdf_s8" if state_type == "int8" else "ek_svdf_s8_s16"
    act = op.options.get("fused_activation_function", "NONE")
    return Layer(op.index, op.opcode, KERNEL, fn + "(&{p}, {in0}, {in1}, {out0}, {scratch})", tuple(params.items()),
                 # CMSIS-NN's two int32 buffers, when it runs the layer (a state zero point of 0)
                 consts, (x, s_i), (y,), scratch_bytes=4 * batches * (filters + units) if z_st == 0 else 0,
                 summary=(f"{fmt_shape(ctx.shape(x))} -> {fmt_shape(ctx.shape(y))}, {filters} filters x {memory} "
                          f"memory, rank {rank}, {state_type} state; fused {act} not applied (as TFLite Micro: "
                          f"the int8 output clamp only)"))
