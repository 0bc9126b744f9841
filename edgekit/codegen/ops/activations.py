"""Standalone int8 activations: LOGISTIC, TANH, RELU, RELU6, HARD_SWISH (TFLite Micro's arithmetic)."""

from __future__ import annotations

import math

from edgekit.codegen.layer import KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.codegen.quantmath import f32, input_radius, quantize_multiplier, tflite_round
from edgekit.tflite.ir import Operator

KERNEL = KernelSpec(
    file="ek_activations.c", struct="ek_sigmoid_params",
    fields=tuple(("int32_t", n) for n in ("size", "input_zero_point", "input_range_radius", "input_multiplier",
                                           "input_left_shift")),
    prototypes=("int ek_logistic_s8(const ek_sigmoid_params *p, const int8_t *in, int8_t *out)",
                "int ek_tanh_s8(const ek_sigmoid_params *p, const int8_t *in, int8_t *out)"))
# The other activations' structs live with the same C file.
RELU_KERNEL = KernelSpec(
    file="ek_activations.c", struct="ek_relu_params",
    fields=tuple(("int32_t", n) for n in ("size", "input_offset", "output_offset", "mult", "shift", "act_min",
                                           "act_max")),
    prototypes=("int ek_relu_s8(const ek_relu_params *p, const int8_t *in, int8_t *out)",
                "int ek_relu6_s8(const ek_relu_params *p, const int8_t *in, int8_t *out)"))
HARD_SWISH_KERNEL = KernelSpec(
    file="ek_activations.c", struct="ek_hard_swish_params",
    fields=tuple(("int32_t", n) for n in ("size", "input_zero_point", "output_zero_point",
                                           "reluish_multiplier_fp16", "reluish_exponent",
                                           "output_multiplier_fp16", "output_exponent")),
    prototypes=("int ek_hard_swish_s8(const ek_hard_swish_params *p, const int8_t *in, int8_t *out)",))

_INPUT_INTEGER_BITS = 4


def sigmoid_params(input_scale: float) -> tuple[int, int, int]:
    """LOGISTIC/TANH int8 Prepare: frexp of scale * 2^27, rounded multiplier, input radius."""
    real = float(f32(input_scale)) * float(1 << (31 - _INPUT_INTEGER_BITS))
    q, left_shift = math.frexp(real)
    mult = int(tflite_round(q * (1 << 31)))
    if left_shift < 0 or mult >= (1 << 31):
        raise Refusal(f"input scale {input_scale} is outside what the int8 kernel handles")
    return mult, left_shift, input_radius(_INPUT_INTEGER_BITS, left_shift)


def _downscale_to_int16(m: int) -> int:
    if m >= (1 << 31) - 1 - (1 << 15):
        return (1 << 15) - 1
    return (m + (1 << 15)) >> 16


@lowering("LOGISTIC", "TANH", "RELU", "RELU6", "HARD_SWISH")
def lower_activation(ctx: LowerCtx, op: Operator) -> Layer:
    x, y = op.inputs[0], op.outputs[0]
    ctx.dtype(x)
    ctx.dtype(y)
    s_in, z_in = ctx.qparams(x)
    s_out, z_out = ctx.qparams(y)
    size = ctx.t(x).num_elements
    summary = f"{fmt_shape(ctx.shape(x))}"
    if op.opcode in ("LOGISTIC", "TANH"):
        # The kernels produce scale 1/256, zp -128 (LOGISTIC) and 1/128, zp 0 (TANH) whatever the
        # output tensor says, as TFLite Micro's do; Micro only checks LOGISTIC's zero point.
        if op.opcode == "LOGISTIC" and z_out != -128:
            raise Refusal(f"LOGISTIC int8 needs output zero point -128, got {z_out}")
        mult, shift, radius = sigmoid_params(s_in)
        params = dict(size=size, input_zero_point=z_in, input_range_radius=radius, input_multiplier=mult,
                      input_left_shift=shift)
        fn, kernel = ("ek_logistic_s8" if op.opcode == "LOGISTIC" else "ek_tanh_s8"), KERNEL
    elif op.opcode == "RELU":
        # TFLite Micro: multiplier from the float32 quotient of the scales; clamp at quantized 0.
        m, s = quantize_multiplier(float(f32(s_in) / f32(s_out)))
        params = dict(size=size, input_offset=z_in, output_offset=z_out, mult=m, shift=s,
                      act_min=max(-128, z_out), act_max=127)
        fn, kernel = "ek_relu_s8", RELU_KERNEL
    elif op.opcode == "RELU6":
        # TFLite Micro clamps RELU6 in the input's quantization and does not requantize.
        six = max(-128, min(127, int(tflite_round(float(f32(6.0) / f32(s_in)))) + z_in))
        params = dict(size=size, input_offset=z_in, output_offset=z_in, mult=0, shift=0, act_min=z_in, act_max=six)
        fn, kernel = "ek_relu6_s8", RELU_KERNEL
    else:
        hires = f32(1.0 / 128.0) * f32(s_in)
        om, oe = quantize_multiplier(float(hires / f32(s_out)))
        rm, re_ = quantize_multiplier(float(hires / f32(3.0 / 32768.0)))
        if oe > 0:
            raise Refusal("HARD_SWISH output multiplier exponent is positive (TFLite requires <= 0)")
        params = dict(size=size, input_zero_point=z_in, output_zero_point=z_out,
                      reluish_multiplier_fp16=_downscale_to_int16(rm), reluish_exponent=re_,
                      output_multiplier_fp16=_downscale_to_int16(om), output_exponent=oe)
        fn, kernel = "ek_hard_swish_s8", HARD_SWISH_KERNEL
    return Layer(op.index, op.opcode, kernel, fn + "(&{p}, {in0}, {out0})", tuple(params.items()), (), (x,), (y,),
                 inplace=(x,), summary=summary)
