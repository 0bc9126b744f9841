"""QUANTIZE (float -> int8/int16, int -> int requantization) and DEQUANTIZE (int8/int16 -> float)."""

from __future__ import annotations

from edgekit.codegen.layer import KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.codegen.quantmath import f32, quantize_multiplier
from edgekit.tflite.ir import Operator

_FUNCS = {("float32", "int8"): "ek_quantize_f32_s8", ("float32", "int16"): "ek_quantize_f32_s16",
          ("int8", "int8"): "ek_requantize_s8_s8", ("int8", "int16"): "ek_requantize_s8_s16",
          ("int16", "int8"): "ek_requantize_s16_s8", ("int16", "int16"): "ek_requantize_s16_s16",
          ("int8", "int32"): "ek_requantize_s8_s32", ("int16", "int32"): "ek_requantize_s16_s32",
          ("int8", "float32"): "ek_dequantize_s8_f32", ("int16", "float32"): "ek_dequantize_s16_f32"}
_C = {"float32": "float", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t"}

KERNEL = KernelSpec(
    file="ek_quantize.c", struct="ek_quantize_params",
    fields=(("int32_t", "size"), ("int32_t", "input_zero_point"), ("int32_t", "output_zero_point"),
            ("int32_t", "mult"), ("int32_t", "shift"), ("float", "scale"), ("double", "dequant_scale")),
    prototypes=tuple(f"int {fn}(const ek_quantize_params *p, const {_C[a]} *in, {_C[b]} *out)"
                     for (a, b), fn in _FUNCS.items()))


@lowering("QUANTIZE", "DEQUANTIZE")
def lower_quantize(ctx: LowerCtx, op: Operator) -> Layer:
    x, y = op.inputs[0], op.outputs[0]
    a, b = ctx.t(x).dtype, ctx.t(y).dtype
    fn = _FUNCS.get((a, b))
    if fn is None or (op.opcode == "DEQUANTIZE") != (b == "float32"):
        raise Refusal(f"{a} -> {b} is not supported")
    params = dict(size=ctx.t(x).num_elements, input_zero_point=0, output_zero_point=0, mult=0, shift=0,
                  scale=1.0, dequant_scale=1.0)
    if a == "float32":
        s_out, z_out = ctx.qparams(y)
        params.update(output_zero_point=z_out, scale=float(f32(s_out)))
    elif b == "float32":
        s_in, z_in = ctx.qparams(x)
        params.update(input_zero_point=z_in, dequant_scale=float(f32(s_in)))
    else:
        s_in, z_in = ctx.qparams(x)
        s_out, z_out = ctx.qparams(y)
        m, s = quantize_multiplier(float(f32(s_in)) / float(f32(s_out)))
        params.update(input_zero_point=z_in, output_zero_point=z_out, mult=m, shift=s)
    return Layer(op.index, op.opcode, KERNEL, fn + "(&{p}, {in0}, {out0})", tuple(params.items()), (), (x,), (y,),
                 inplace=(x,) if a == b else (), summary=f"{fmt_shape(ctx.shape(x))} {a} -> {b}")
