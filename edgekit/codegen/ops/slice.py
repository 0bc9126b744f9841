"""STRIDED_SLICE and SLICE of an activation: a strided copy (any element type, up to 6-D).
Slices of shape tensors are folded before lowering (fold.py)."""

from __future__ import annotations

import numpy as np

from edgekit.codegen.layer import KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape, strided_slice_plan
from edgekit.tflite.ir import Operator

MAX_DIMS = 6

KERNEL = KernelSpec(
    file="ek_slice.c", struct="ek_slice_params",
    fields=(("int32_t", "elem_bytes"), ("int32_t", "in_stride[6]"), ("int32_t", "start[6]"),
            ("int32_t", "step[6]"), ("int32_t", "count[6]")),
    prototypes=("int ek_slice(const ek_slice_params *p, const void *in, void *out)",))


def _const_ints(ctx: LowerCtx, i: int) -> list[int]:
    return [int(v) for v in np.asarray(ctx.const(i)).reshape(-1)]


@lowering("STRIDED_SLICE", "SLICE")
def lower_slice(ctx: LowerCtx, op: Operator) -> Layer:
    x, y = op.inputs[0], op.outputs[0]
    tx, ty = ctx.t(x), ctx.t(y)
    ctx.dtype(x, ("int8", "int16", "int32", "float32"))
    if tx.dtype != ty.dtype:
        raise Refusal(f"{tx.dtype} -> {ty.dtype}: a slice cannot change the type")
    if tx.is_constant:
        raise Refusal("slicing a constant tensor is not supported (fold it in the converter)")
    if tx.quant is not None and ty.quant is not None and (
            list(tx.quant.scale) != list(ty.quant.scale) or list(tx.quant.zero_point) != list(ty.quant.zero_point)):
        raise Refusal("input and output quantization differ")
    shape = ctx.shape(x)
    if op.opcode == "SLICE":
        begin, size = _const_ints(ctx, op.inputs[1]), _const_ints(ctx, op.inputs[2])
        end = [b + s if s >= 0 else dim for b, s, dim in zip(begin, size, shape)]
        plan, out_shape = strided_slice_plan(shape, begin, end, [1] * len(begin), {})
    else:
        strides = _const_ints(ctx, op.inputs[3]) if len(op.inputs) > 3 and op.inputs[3] >= 0 else None
        begin, end = _const_ints(ctx, op.inputs[1]), _const_ints(ctx, op.inputs[2])
        plan, out_shape = strided_slice_plan(shape, begin, end, strides or [1] * len(begin), op.options)
    if int(np.prod(out_shape)) != ty.num_elements:
        raise Refusal(f"the slice has {int(np.prod(out_shape))} elements, the output tensor {ty.num_elements}")
    if len(plan) > MAX_DIMS:
        raise Refusal(f"rank {len(plan)} > {MAX_DIMS}")
    plan = [(0, 1, 1)] * (MAX_DIMS - len(plan)) + plan          # leading unit dimensions
    full = (1,) * (MAX_DIMS - len(shape)) + shape
    in_stride = [int(np.prod(full[d + 1:])) for d in range(MAX_DIMS)]
    params = dict(elem_bytes=tx.nbytes // max(tx.num_elements, 1), in_stride=in_stride,
                  start=[a for a, _, _ in plan], step=[s for _, _, s in plan], count=[n for _, n, _ in plan])
    return Layer(op.index, op.opcode, KERNEL, "ek_slice(&{p}, {in0}, {out0})", tuple(params.items()), (), (x,), (y,),
                 summary=f"{fmt_shape(shape)} -> {fmt_shape(ctx.shape(y))} (copy)")
