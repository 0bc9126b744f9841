"""SOFTMAX, int8 -> int8 (output scale 1/256, zero point -128) or int8 -> int16 (scale 1/65536,
zero point -32768), along the last dimension."""

from __future__ import annotations

import math

from edgekit.codegen.layer import KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.codegen.quantmath import f32, input_radius, quantize_multiplier
from edgekit.tflite.ir import Operator

KERNEL = KernelSpec(
    file="ek_softmax.c", struct="ek_softmax_params",
    fields=tuple(("int32_t", n) for n in ("rows", "depth", "input_multiplier", "input_left_shift", "diff_min")),
    prototypes=("int ek_softmax_s8(const ek_softmax_params *p, const int8_t *in, int8_t *out)",
                "int ek_softmax_s8_s16(const ek_softmax_params *p, const int8_t *in, int16_t *out)"),
    cmsis_nn=True)

_SCALED_DIFF_INTEGER_BITS = 5


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """PreprocessSoftmaxScaling + CalculateInputRadius as TFLite Micro computes them (double)."""
    real = min(beta * float(f32(input_scale)) * (1 << (31 - _SCALED_DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    mult, left_shift = quantize_multiplier(real)
    if left_shift < 0:
        raise Refusal(f"input scale {input_scale} is too small for the int8 softmax")
    diff_min = -input_radius(_SCALED_DIFF_INTEGER_BITS, left_shift)
    return mult, left_shift, diff_min


@lowering("SOFTMAX")
def lower_softmax(ctx: LowerCtx, op: Operator) -> Layer:
    x, y = op.inputs[0], op.outputs[0]
    ctx.dtype(x)
    out_type = ctx.dtype(y, ("int8", "int16"))
    s_in, _ = ctx.qparams(x)
    s_out, z_out = ctx.qparams(y)
    if out_type == "int8" and (z_out != -128 or s_out != float(f32(1.0 / 256))):
        raise Refusal(f"int8 softmax needs output scale 1/256 and zero point -128, got {s_out} / {z_out}")
    # TFLite Micro accepts an int16 output within 0.1 % of 1/65536 (converters write 1/65535)
    if out_type == "int16" and (z_out != -32768 or abs(s_out - 1.0 / 65536) > 0.001 / 65536):
        raise Refusal(f"int16 softmax needs output scale 1/65536 and zero point -32768, got {s_out} / {z_out}")
    shape = ctx.shape(x)
    depth = shape[-1] if shape else 1
    beta = float(f32(op.options.get("beta", 1.0)))
    if not math.isfinite(beta) or beta <= 0:
        raise Refusal(f"beta {beta} is not supported")
    mult, shift, diff_min = softmax_params(beta, s_in)
    rows = ctx.t(x).num_elements // depth
    params = dict(rows=rows, depth=depth, input_multiplier=mult, input_left_shift=shift, diff_min=diff_min)
    fn = "ek_softmax_s8" if out_type == "int8" else "ek_softmax_s8_s16"
    return Layer(op.index, op.opcode, KERNEL, fn + "(&{p}, {in0}, {out0})", tuple(params.items()), (),
                 (x,), (y,), summary=f"{fmt_shape(shape)}, beta {beta:g}, {out_type} output")
