"""Latency statistics (pure). Percentiles interpolate linearly between order statistics (the
definition numpy calls "linear"); std is the sample standard deviation (n - 1); cv = std / mean."""

from __future__ import annotations

import math
from typing import Sequence

from edgekit.core.errors import DeviceError


def percentile(sorted_values: Sequence[float], p: float) -> float:
    if not sorted_values:
        raise ValueError("percentile of no values")
    rank = p / 100.0 * (len(sorted_values) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo)


def latency_stats_ms(latencies_ns: Sequence[int]) -> dict[str, float | None]:
    """latency_ms_{p50,p90,p99,mean,std,min,max} and latency_cv of per-inference times in ns; std
    (and so cv) of a single time is undefined: missing, not 0."""
    if not latencies_ns:
        raise DeviceError("the device returned no latencies", "rerun with --repeats 1 or more")
    ms = sorted(x / 1e6 for x in latencies_ns)
    n = len(ms)
    mean = math.fsum(ms) / n
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in ms) / (n - 1)) if n > 1 else None
    return {
        "latency_ms_p50": percentile(ms, 50), "latency_ms_p90": percentile(ms, 90),
        "latency_ms_p99": percentile(ms, 99), "latency_ms_mean": mean, "latency_ms_std": std,
        "latency_ms_min": ms[0], "latency_ms_max": ms[-1], "latency_cv": std / mean if std is not None and mean > 0 else None,
    }


def cv(values: Sequence[float]) -> float:
    """Coefficient of variation (sample std / mean) of a few figures, e.g. p50 over sessions."""
    n = len(values)
    if n < 2:
        raise ValueError("need at least two values for a coefficient of variation")
    mean = math.fsum(values) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) / mean
