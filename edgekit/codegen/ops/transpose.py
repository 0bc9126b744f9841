"""TRANSPOSE of up to 6 dimensions (any element type)."""

from __future__ import annotations

import numpy as np

from edgekit.codegen.layer import KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.tflite.ir import DTYPE_BYTES, Operator

KERNEL = KernelSpec(
    file="ek_transpose.c", struct="ek_transpose_params",
    fields=(("int32_t", "out_dims[6]"), ("int32_t", "in_strides[6]"), ("int32_t", "elem_bytes")),
    prototypes=("int ek_transpose(const ek_transpose_params *p, const void *in, void *out)",))


@lowering("TRANSPOSE")
def lower_transpose(ctx: LowerCtx, op: Operator) -> Layer:
    x, y = op.inputs[0], op.outputs[0]
    dtype = ctx.dtype(x, ("int8", "int16", "int32", "float32"))
    shape = ctx.shape(x)
    perm = [int(p) for p in ctx.const(op.inputs[1]).reshape(-1)]
    if len(shape) > 6 or sorted(perm) != list(range(len(shape))):
        raise Refusal(f"permutation {perm} of a rank-{len(shape)} tensor is not supported")
    strides = [int(np.prod(shape[k + 1:], dtype=np.int64)) for k in range(len(shape))]
    out_dims = [shape[p] for p in perm]
    if tuple(out_dims) != ctx.shape(y):
        raise Refusal(f"output shape {ctx.shape(y)} does not match permutation {perm}")
    pad = 6 - len(shape)
    params = dict(out_dims=[1] * pad + out_dims, in_strides=[0] * pad + [strides[p] for p in perm],
                  elem_bytes=DTYPE_BYTES[dtype])
    return Layer(op.index, op.opcode, KERNEL, "ek_transpose(&{p}, {in0}, {out0})", tuple(params.items()), (),
                 (x,), (y,), summary=f"{fmt_shape(shape)} -> {fmt_shape(tuple(out_dims))}, perm {perm}")
