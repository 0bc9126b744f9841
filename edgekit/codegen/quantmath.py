"""TFLite (Micro)'s quantization arithmetic, reproduced exactly on the host.

Everything here mirrors what TFLite Micro computes in its kernels' Prepare step, including where it
rounds through float32 and where it works in double: a multiplier that differs in its last bit
changes outputs. Python floats are IEEE doubles; float32 steps go through numpy.float32. The
integer helpers (``srdhm``, ``rdbpot``, ``mbqm``) are the kernels' arithmetic, used by tests.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
INT16_MIN, INT16_MAX = -32768, 32767
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1

TYPE_RANGE = {"int8": (INT8_MIN, INT8_MAX), "int16": (INT16_MIN, INT16_MAX),
              "int32": (INT32_MIN, INT32_MAX), "uint8": (0, 255)}


def tflite_round(x: float) -> float:
    """std::round: nearest integer, ties away from zero (exact for doubles)."""
    return math.copysign(math.floor(abs(x) + 0.5), x) if abs(x) < 2.0 ** 52 else x


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real = m * 2^(shift - 31), m in [2^30, 2^31) (double rounding build)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(tflite_round(q * (1 << 31)))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def f32(x: float) -> np.float32:
    return np.float32(x)


def quantize_float_f32(value: float, scale: float, zero_point: int) -> int:
    """zero_point + round(value / scale) with the division in float32 (TFLite's Quantize helper)."""
    return int(zero_point) + int(tflite_round(float(f32(value) / f32(scale))))


def activation_range(activation: str, scale: float, zero_point: int, dtype: str) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for a fused activation ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")."""
    qmin, qmax = TYPE_RANGE[dtype]
    if activation == "RELU":
        return max(qmin, quantize_float_f32(0.0, scale, zero_point)), qmax
    if activation == "RELU6":
        return (max(qmin, quantize_float_f32(0.0, scale, zero_point)),
                min(qmax, quantize_float_f32(6.0, scale, zero_point)))
    if activation == "RELU_N1_TO_1":
        return (max(qmin, quantize_float_f32(-1.0, scale, zero_point)),
                min(qmax, quantize_float_f32(1.0, scale, zero_point)))
    if activation == "NONE":
        return qmin, qmax
    raise ValueError(f"unknown fused activation {activation!r}")


def conv_multipliers(input_scale: float, filter_scales: np.ndarray, output_scale: float,
                     channels: int) -> tuple[list[int], list[int]]:
    """PopulateConvolutionQuantizationParams: per output channel, in double from float32 scales."""
    scales = np.asarray(filter_scales, dtype=np.float32)
    if scales.size == 1:
        scales = np.repeat(scales, channels)
    mults, shifts = [], []
    for s in scales:
        m, sh = quantize_multiplier(float(f32(input_scale)) * float(s) / float(f32(output_scale)))
        mults.append(m)
        shifts.append(sh)
    return mults, shifts


def fc_per_tensor_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """Per-tensor FULLY_CONNECTED multiplier, in double from the float32 scales.

    Older TFLite sources form the scale product in float32 first; the tflite-micro package this
    project pins (0.dev20261023) computes it in double (seen on ad01_int8, whose last layer has an
    output that lands on a rounding tie one way and not the other), so double is what matches."""
    return quantize_multiplier(float(f32(input_scale)) * float(f32(filter_scale)) / float(f32(output_scale)))


def srdhm(a: int, b: int) -> int:
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    q = abs(ab + nudge) // (1 << 31)
    return q if ab + nudge >= 0 else -q


def rdbpot(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def wrap32(x: int) -> int:
    return ((x + (1 << 31)) % (1 << 32)) - (1 << 31)


def mbqm(x: int, multiplier: int, shift: int) -> int:
    left, right = max(shift, 0), max(-shift, 0)
    return rdbpot(srdhm(wrap32(x << left), multiplier), right)


def input_radius(integer_bits: int, left_shift: int, total_signed_bits: int = 31) -> int:
    """CalculateInputRadius (double arithmetic, floored)."""
    value = 1.0 * ((1 << integer_bits) - 1) * (1 << (total_signed_bits - integer_bits)) / (1 << left_shift)
    return int(math.floor(value))
