"""Small synthetic data sources for the NAS unit tests (the real HAR data is used by the
integration tests): class-dependent sinusoid windows, learnable in a couple of epochs."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.nas.data import DataSource, TaskData


def synthetic_windows(n: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    t = np.arange(length)[None, :, None]
    freq = (1 + y)[:, None, None] * 0.35
    x = np.sin(freq * t + rng.uniform(0, 6, (n, 1, 3))) + 0.1 * rng.standard_normal((n, length, 3))
    return np.ascontiguousarray(x.transpose(0, 2, 1)[:, :, :, None]).astype(np.float32), y.astype(np.int64)


def synthetic_source(resolutions: tuple[int, ...] = (16, 24), n: int = 192) -> DataSource:
    def load(r: int) -> TaskData:
        xt, yt = synthetic_windows(n, r, 1)
        xv, yv = synthetic_windows(n // 2, r, 2)
        xs, ys = synthetic_windows(n // 2, r, 3)
        return TaskData(r, xt, yt, xv, yv, xs, ys)

    return DataSource("synthetic", "1d", 3, 3, max(resolutions), False, "synthetic", load)


@pytest.fixture
def source() -> DataSource:
    return synthetic_source()
