"""PAD / PADV2 with constant padding on up to 5 dimensions (any element type)."""

from __future__ import annotations

import numpy as np

from edgekit.codegen.layer import KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.tflite.ir import DTYPE_BYTES, Operator

KERNEL = KernelSpec(
    file="ek_pad.c", struct="ek_pad_params",
    fields=(("int32_t", "in_dims[5]"), ("int32_t", "out_dims[5]"), ("int32_t", "before[5]"),
            ("int32_t", "elem_bytes"), ("int32_t", "pad_value")),
    prototypes=("int ek_pad(const ek_pad_params *p, const void *in, void *out)",))


@lowering("PAD", "PADV2")
def lower_pad(ctx: LowerCtx, op: Operator) -> Layer:
    x, y = op.inputs[0], op.outputs[0]
    dtype = ctx.dtype(x, ("int8", "int16", "int32", "float32"))
    if ctx.t(y).dtype != dtype:
        raise Refusal("input and output types differ")
    pads = ctx.const(op.inputs[1]).astype(np.int64).reshape(-1, 2)
    shape = ctx.shape(x)
    if len(shape) > 5 or pads.shape[0] != len(shape):
        raise Refusal(f"padding of rank {len(shape)} (at most 5 supported)")
    if (pads < 0).any():
        raise Refusal("negative padding")
    if dtype != "float32" and ctx.t(y).quant is not None and ctx.t(x).quant is not None \
            and ctx.qparams(x) != ctx.qparams(y):
        raise Refusal("input and output quantization differ")
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = ctx.const(op.inputs[2]).reshape(-1)
        if value.size != 1:
            raise Refusal("pad value must be a scalar")
        pad_value = int(value.view(np.int32)[0]) if dtype == "float32" else int(value[0])
    else:
        pad_value = 0 if dtype in ("float32", "int32") else ctx.qparams(y)[1]
    k = 5 - len(shape)
    in_dims = [1] * k + list(shape)
    before = [0] * k + [int(v) for v in pads[:, 0]]
    out_dims = [1] * k + [int(d + a + b) for d, (a, b) in zip(shape, pads)]
    if tuple(out_dims[k:]) != ctx.shape(y):
        raise Refusal(f"output shape {ctx.shape(y)} does not match the padding")
    params = dict(in_dims=in_dims, out_dims=out_dims, before=before, elem_bytes=DTYPE_BYTES[dtype],
                  pad_value=pad_value)
    return Layer(op.index, op.opcode, KERNEL, "ek_pad(&{p}, {in0}, {out0})", tuple(params.items()), (),
                 (x,), (y,), summary=f"{fmt_shape(shape)} -> {fmt_shape(ctx.shape(y))}, pads {pads.tolist()}")
