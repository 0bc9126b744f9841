from __future__ import annotations

import numpy as np
import pytest

from edgekit.core.errors import DeviceError
from edgekit.measure.stats import cv, latency_stats_ms, percentile


def test_percentiles_match_numpy_linear_definition():
    rng = np.random.default_rng(1)
    for n in (1, 2, 7, 100, 1001):
        x = sorted(rng.lognormal(size=n).tolist())
        for p in (0, 50, 90, 99, 100):
            assert percentile(x, p) == pytest.approx(float(np.percentile(x, p)), rel=1e-12)


def test_latency_stats_from_nanoseconds():
    lat_ns = [1_000_000, 2_000_000, 3_000_000, 4_000_000, 10_000_000]
    s = latency_stats_ms(lat_ns)
    ms = np.array(lat_ns) / 1e6
    assert s["latency_ms_p50"] == 3.0 and s["latency_ms_min"] == 1.0 and s["latency_ms_max"] == 10.0
    assert s["latency_ms_mean"] == pytest.approx(ms.mean())
    assert s["latency_ms_std"] == pytest.approx(ms.std(ddof=1))
    assert s["latency_cv"] == pytest.approx(ms.std(ddof=1) / ms.mean())
    assert s["latency_ms_p99"] == pytest.approx(np.percentile(ms, 99))
    one = latency_stats_ms([5_000])
    assert one["latency_ms_std"] is None and one["latency_cv"] is None  # undefined for one time: not 0
    assert one["latency_ms_p50"] == one["latency_ms_min"] == one["latency_ms_max"] == 0.005
    with pytest.raises(DeviceError, match="no latencies"):
        latency_stats_ms([])


def test_cv_of_session_medians():
    v = [1.0, 1.02, 0.98, 1.01, 0.99]
    assert cv(v) == pytest.approx(np.std(v, ddof=1) / np.mean(v))
    with pytest.raises(ValueError):
        cv([1.0])
