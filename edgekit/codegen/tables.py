"""Lookup tables the integer reference kernels interpolate in, computed here rather than copied.

TFLite's int16 sigmoid/tanh (used by the integer LSTM) interpolate linearly in a 256-entry table of
sigmoid(i / 24) in 0.16 fixed point. Linear interpolation under-reads a concave curve, so the table
is lifted by the mean chord error: with knot spacing h, entry i is round(65536 * (s(x) - s''(x) h^2 / 16)),
x = i h, and the last knot is full scale (65535). Bit-exactness with TFLite Micro is what checks it
(tests/unit/codegen/test_lstm.py, tests/integration/codegen/test_recurrent.py).
"""

from __future__ import annotations

import numpy as np

SIGMOID_TABLE_STEP = 1.0 / 24.0


def sigmoid_table_q16() -> np.ndarray:
    h = SIGMOID_TABLE_STEP
    x = np.arange(256, dtype=np.float64) * h
    s = 1.0 / (1.0 + np.exp(-x))
    curvature = s * (1.0 - s) * (1.0 - 2.0 * s)          # s''(x)
    table = np.round(65536.0 * (s - curvature * h * h / 16.0))
    table[-1] = 65535.0                                    # the table ends at full scale
    return np.minimum(table, 65535.0).astype(np.uint16)
