"""MEAN over contiguous axes (the spatial mean of NHWC tensors, global average pooling), int8."""

from __future__ import annotations

import numpy as np

from edgekit.codegen.layer import KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.codegen.quantmath import f32, quantize_multiplier
from edgekit.tflite.ir import Operator

KERNEL = KernelSpec(
    file="ek_mean.c", struct="ek_mean_params",
    fields=tuple(("int32_t", n) for n in ("outer", "reduce", "inner", "input_zero_point", "output_zero_point",
                                           "mult", "shift")),
    prototypes=("int ek_mean_s8(const ek_mean_params *p, const int8_t *in, int8_t *out)",))


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """TFLite's QuantizedMeanOrSum: fold 1/count into the multiplier with integer arithmetic."""
    mult, shift = quantize_multiplier(float(f32(input_scale)) / float(f32(output_scale)))
    s = min(63 - (64 - count.bit_length()), 32, 31 + shift)   # 63 - clz64(count)
    mult = int((mult << s) // count) if mult >= 0 else -int((-mult << s) // count)
    return mult, shift - s


@lowering("MEAN")
def lower_mean(ctx: LowerCtx, op: Operator) -> Layer:
    x, y = op.inputs[0], op.outputs[0]
    ctx.dtype(x)
    ctx.dtype(y)
    shape = ctx.shape(x)
    axes = sorted({int(a) % len(shape) for a in ctx.const(op.inputs[1]).reshape(-1)}) if shape else []
    if not axes:
        raise Refusal("MEAN without axes")
    if axes != list(range(axes[0], axes[-1] + 1)):
        raise Refusal(f"MEAN over non-contiguous axes {axes}")
    outer = int(np.prod(shape[:axes[0]], dtype=np.int64))
    reduce = int(np.prod(shape[axes[0]:axes[-1] + 1], dtype=np.int64))
    inner = int(np.prod(shape[axes[-1] + 1:], dtype=np.int64))
    if ctx.t(y).num_elements != outer * inner:
        raise Refusal(f"output has {ctx.t(y).num_elements} elements, expected {outer * inner}")
    s_in, z_in = ctx.qparams(x)
    s_out, z_out = ctx.qparams(y)
    mult, shift = mean_multiplier(s_in, s_out, reduce)
    params = dict(outer=outer, reduce=reduce, inner=inner, input_zero_point=z_in, output_zero_point=z_out,
                  mult=mult, shift=shift)
    return Layer(op.index, op.opcode, KERNEL, "ek_mean_s8(&{p}, {in0}, {out0})", tuple(params.items()), (),
                 (x,), (y,), summary=f"{fmt_shape(shape)} -> {fmt_shape(ctx.shape(y))}, axes {axes}")
