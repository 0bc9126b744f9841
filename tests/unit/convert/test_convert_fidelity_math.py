"""The arithmetic behind the fidelity report, checked against its definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgekit.convert.fidelity import dequantize, is_classifier_output, quantize, sqnr_db
from edgekit.tflite.ir import Quant, Tensor


def tensor(scale, zero_point, axis=None, shape=(1, 4)) -> Tensor:
    q = Quant(np.asarray(scale, np.float32).reshape(-1), np.asarray(zero_point, np.int64).reshape(-1), axis)
    return Tensor(0, "t", shape, "int8", q)


def test_sqnr_matches_its_definition():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal(1000)
    noise = 0.01 * rng.standard_normal(1000)
    expected = 10 * math.log10(np.sum(ref ** 2) / np.sum(noise ** 2))
    assert sqnr_db(ref, ref + noise) == pytest.approx(expected, abs=1e-3)
    assert sqnr_db(ref, ref) is None                  # no error: undefined, not infinite
    assert sqnr_db(np.zeros(4), np.ones(4)) is None   # no signal: undefined
    assert sqnr_db(ref, np.zeros_like(ref)) == pytest.approx(0.0, abs=1e-9)  # error as large as the signal


def test_quantize_rounds_half_away_from_zero_and_saturates():
    t = tensor(0.5, 3)
    x = np.array([0.25, -0.25, 0.75, -0.75, 100.0, -100.0, 1.0])
    # x/scale = 0.5, -0.5, 1.5, -1.5 -> 1, -1, 2, -2 (away from zero), then + zero point 3
    assert quantize(x, t).tolist() == [4, 2, 5, 1, 127, -128, 5]
    assert quantize(x, t).dtype == np.int8


def test_dequantize_per_tensor_and_per_channel():
    q = np.array([[-128, 0, 10, 127]], np.int8)
    assert dequantize(q, tensor(0.5, -2)).tolist() == [[-63.0, 1.0, 6.0, 64.5]]
    per_channel = tensor([1.0, 0.5, 0.25, 2.0], [0, 0, 0, 0], axis=1)
    assert dequantize(q, per_channel).tolist() == [[-128.0, 0.0, 2.5, 254.0]]
    plain = Tensor(0, "f", (1, 4), "float32")
    assert dequantize(np.ones((1, 4), np.float32), plain).tolist() == [[1, 1, 1, 1]]


def test_classifier_detection():
    assert is_classifier_output((1, 10), [(1, 8, 8, 1)])
    assert not is_classifier_output((1, 640), [(1, 640)])   # autoencoder reconstruction
    assert not is_classifier_output((1, 1), [(1, 8)])       # a single regression value
    assert not is_classifier_output((1, 4, 4, 2), [(1, 8)])  # a feature map
