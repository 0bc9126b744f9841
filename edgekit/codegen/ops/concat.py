"""CONCATENATION along any axis of inputs with identical quantization (any element type)."""

from __future__ import annotations

import numpy as np

from edgekit.codegen.layer import ConstArray, KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.tflite.ir import DTYPE_BYTES, Operator

KERNEL = KernelSpec(
    file="ek_concat.c", struct="ek_concat_params",
    fields=(("int32_t", "num_inputs"), ("int32_t", "outer"), ("const int32_t *", "block_bytes")),
    prototypes=("int ek_concat(const ek_concat_params *p, const void *const *ins, void *out)",))


@lowering("CONCATENATION")
def lower_concat(ctx: LowerCtx, op: Operator) -> Layer:
    y = op.outputs[0]
    dtype = ctx.dtype(y, ("int8", "int16", "int32", "float32"))
    out_shape = ctx.shape(y)
    axis = int(op.options.get("axis", 0))
    if axis < 0:
        axis += len(out_shape)
    if not 0 <= axis < len(out_shape):
        raise Refusal(f"axis {op.options.get('axis')} out of range")
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise Refusal("fused activation on CONCATENATION is not supported")
    blocks = []
    for i in op.inputs:
        if ctx.dtype(i, (dtype,)) != dtype:
            raise Refusal("inputs of different types")
        if dtype in ("int8", "int16") and ctx.qparams(i) != ctx.qparams(y):
            raise Refusal("inputs and output are quantized differently (TFLite Micro requires equal)")
        shp = ctx.shape(i)
        if len(shp) != len(out_shape) or any(a != b for k, (a, b) in enumerate(zip(shp, out_shape)) if k != axis):
            raise Refusal(f"input shape {shp} does not fit output {out_shape} along axis {axis}")
        blocks.append(int(np.prod(shp[axis:], dtype=np.int64)) * DTYPE_BYTES[dtype])
    outer = int(np.prod(out_shape[:axis], dtype=np.int64))
    arr = ConstArray(f"L{op.index}_block_bytes", "int32_t", np.asarray(blocks, np.int32))
    params = dict(num_inputs=len(op.inputs), outer=outer, block_bytes=arr)
    return Layer(op.index, op.opcode, KERNEL, "ek_concat(&{p}, {ins}, {out0})", tuple(params.items()), (arr,),
                 tuple(op.inputs), (y,),
                 summary=f"{' + '.join(fmt_shape(ctx.shape(i)) for i in op.inputs)} -> {fmt_shape(out_shape)}, "
                         f"axis {axis}")
