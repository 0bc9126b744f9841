"""RESHAPE, SQUEEZE, EXPAND_DIMS: views. The output shares the input's bytes; no code runs."""

from __future__ import annotations

from edgekit.codegen.layer import Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.tflite.ir import Operator


@lowering("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
def lower_view(ctx: LowerCtx, op: Operator) -> Layer:
    x, y = op.inputs[0], op.outputs[0]
    tx, ty = ctx.t(x), ctx.t(y)
    if tx.nbytes != ty.nbytes or tx.dtype != ty.dtype:
        raise Refusal(f"{fmt_shape(tx.shape)} {tx.dtype} -> {fmt_shape(ty.shape)} {ty.dtype} changes the data size")
    if tx.is_constant:
        raise Refusal("reshaping a constant tensor is not supported (fold it in the converter)")
    if tx.quant is not None and ty.quant is not None and (
            list(tx.quant.scale) != list(ty.quant.scale) or list(tx.quant.zero_point) != list(ty.quant.zero_point)):
        raise Refusal("input and output quantization differ")
    return Layer(op.index, op.opcode, None, inputs=(x,), outputs=(y,),
                 summary=f"{fmt_shape(tx.shape)} -> {fmt_shape(ty.shape)} (view, no copy)")
