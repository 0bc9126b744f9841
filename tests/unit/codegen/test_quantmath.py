"""TFLite quantization arithmetic reproduced on the host (edgekit.codegen.quantmath)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from edgekit.codegen.quantmath import (
    activation_range,
    fc_per_tensor_multiplier,
    mbqm,
    quantize_multiplier,
    rdbpot,
    srdhm,
    tflite_round,
)


@pytest.mark.parametrize("real", [1e-9, 0.000123, 0.25, 0.5, 0.7071, 0.999999999, 1.0, 1.5, 3.75, 123.0])
def test_quantize_multiplier_reconstructs_the_real_value(real):
    m, shift = quantize_multiplier(real)
    assert (1 << 30) <= m < (1 << 31)
    assert abs(m * 2.0 ** (shift - 31) - real) <= real * 2.0 ** -30


def test_quantize_multiplier_edge_cases():
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(2.0 ** -40) == (0, 0)           # below 2^-31: flushed to zero
    assert quantize_multiplier(1.0) == (1 << 30, 1)
    # a mantissa that rounds up to 2^31 is renormalised
    assert quantize_multiplier(1.0 - 2.0 ** -40) == (1 << 30, 1)


def test_tflite_round_ties_away_from_zero():
    assert [tflite_round(v) for v in (0.5, 1.5, 2.5, -0.5, -2.5, 2.4999)] == [1, 2, 3, -1, -3, 2]


def _exact_srdhm(a: int, b: int) -> int:
    x = Fraction(a * b, 1 << 31)
    return int(math.floor(x + Fraction(1, 2))) if x >= 0 else -int(math.floor(-x + Fraction(1, 2)))


def test_srdhm_rounds_half_away_from_zero_and_saturates():
    rng = np.random.default_rng(0)
    for a, b in rng.integers(-(1 << 31), 1 << 31, size=(2000, 2)).tolist():
        assert srdhm(a, b) == _exact_srdhm(a, b)
    assert srdhm(-(1 << 31), -(1 << 31)) == (1 << 31) - 1


def test_rdbpot_is_division_rounding_half_away_from_zero():
    for x in range(-300, 301):
        for e in (0, 1, 2, 5):
            exact = Fraction(x, 1 << e)
            want = math.floor(abs(exact) + Fraction(1, 2)) * (1 if x >= 0 else -1)
            assert rdbpot(x, e) == want


def test_mbqm_close_to_real_product():
    m, shift = quantize_multiplier(0.0123)
    for x in range(-100000, 100000, 997):
        assert abs(mbqm(x, m, shift) - x * 0.0123) <= 1


def test_activation_ranges():
    assert activation_range("NONE", 0.1, 5, "int8") == (-128, 127)
    assert activation_range("RELU", 0.1, -20, "int8") == (-20, 127)
    assert activation_range("RELU6", 0.05, -128, "int8") == (-128, -8)   # 6 / 0.05 = 120
    assert activation_range("RELU_N1_TO_1", 0.01, 0, "int8") == (-100, 100)


def test_fc_per_tensor_multiplier_is_formed_in_double():
    # ad01_int8's last layer: the float32 product gives 1462485078, the double product 1462485049;
    # only the latter reproduces TFLite Micro's output on a rounding tie.
    s_in, s_w, s_out = np.float32(0.02479089), np.float32(0.01955668), np.float32(0.36449847)
    m, shift = fc_per_tensor_multiplier(s_in, s_w, s_out)
    assert (m, shift) == quantize_multiplier(float(s_in) * float(s_w) / float(s_out))
