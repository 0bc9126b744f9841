"""Integrate sampled power over a time window (pure functions; times in ns, power in W)."""

from __future__ import annotations

from typing import Sequence

from edgekit.core.errors import DeviceError


def _at(a: tuple[int, float], b: tuple[int, float], t: int) -> float:
    (ta, pa), (tb, pb) = a, b
    return pa if tb == ta else pa + (pb - pa) * (t - ta) / (tb - ta)


def integrate_j(samples: Sequence[tuple[int, float]], t0_ns: int, t1_ns: int) -> float:
    """Energy in joules over [t0, t1]: trapezoids between samples, linear interpolation at the edges.

    The samples must bracket the window (one at or before t0, one at or after t1): power outside
    the sampled span is unknown, and guessing it would invent energy.
    """
    if t1_ns < t0_ns:
        raise ValueError("window ends before it starts")
    pts = sorted(samples)
    if not pts or pts[0][0] > t0_ns or pts[-1][0] < t1_ns:
        span = "no samples" if not pts else f"samples span {pts[0][0]}..{pts[-1][0]} ns"
        raise DeviceError(f"power samples do not cover the timed window {t0_ns}..{t1_ns} ns ({span})",
                          "sample faster or start the meter earlier")
    joules = 0.0
    for a, b in zip(pts, pts[1:]):
        lo, hi = max(a[0], t0_ns), min(b[0], t1_ns)
        if hi <= lo:
            continue
        joules += (_at(a, b, lo) + _at(a, b, hi)) / 2 * (hi - lo) / 1e9
    return joules


def mean_power_w(samples: Sequence[tuple[int, float]], t0_ns: int, t1_ns: int) -> float:
    if t1_ns == t0_ns:
        pts = sorted(samples)
        for a, b in zip(pts, pts[1:]):
            if a[0] <= t0_ns <= b[0]:
                return _at(a, b, t0_ns)
        raise DeviceError("power samples do not cover the timed window", "sample faster or start the meter earlier")
    return integrate_j(samples, t0_ns, t1_ns) / ((t1_ns - t0_ns) / 1e9)
