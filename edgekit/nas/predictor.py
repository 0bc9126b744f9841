"""What the search predicts between device measurements: latency (with an uncertainty), RAM, flash.

``LatencyPredictor`` is the interface (``predict(arch) -> (mean_ms, std_ms)``); any per-device
predictor (e.g. edgekit.predict's LightGBM models) can stand behind it. Two built-in ones, both
refit after every round on what the device measured during this search:

- ``LayerCostModel`` (used when the device reports per-layer counts): per operator kind
  (edgekit.nas.space.KINDS), non-negative least squares of the measured per-layer count on
  (work, elements, 1) — interpreter-free int8 kernels cost a fixed set-up, a per-output
  requantisation and a per-MAC inner loop. A whole network is the sum of its layers' kinds, plus
  the median residual of the measured totals (harness and anything the kinds miss). Every
  measurement gives one row per layer, so a handful of networks pins the kinds down.
- ``CostModel``: the same terms fitted on whole-network totals only, fewer terms while few
  networks are measured (for devices without per-layer timing).

Both are linear in the cost terms, hence differentiable in the architecture probabilities
(``torch_predict``, used by the differentiable strategy). The uncertainty is the leave-one-network-
out error of the fit. RAM and flash are predicted from the space's weight and arena estimates plus
the offsets measured on the device; the final decision always uses measured figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

import numpy as np

from edgekit.core.errors import UsageError
from edgekit.nas.space import COUNTS, FEATURES, KINDS

PRIOR_REL_STD = 0.15        # before a leave-one-out error can be computed
MIN_REL_STD = 0.005
_MACS = tuple(k[0] for k in KINDS.values() if k[0])
_OUTS = tuple(k[1] for k in KINDS.values() if k[1])
_PIX = tuple(k[2] for k in KINDS.values() if k[2])
TIERS: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] = (
    (("work", _MACS),),
    (("work", _MACS), ("elements", _OUTS), ("pixels", _PIX), ("operators", COUNTS)),
    tuple((f, (f,)) for f in FEATURES),
)


class LatencyPredictor(Protocol):
    def predict(self, arch: Any) -> tuple[float, float]: ...


def _nnls(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    from scipy.optimize import nnls

    scale = np.maximum(np.abs(a).max(axis=0), 1e-12)
    coef, _ = nnls(a / scale, y)
    return coef / scale


def _linear(weights: dict[str, float], terms: dict[str, Any], offset: float) -> Any:
    total: Any = offset
    for name, w in weights.items():
        if w:
            total = total + w * terms[name]
    return total


@dataclass(frozen=True)
class LinearLatency:
    """latency_ms = offset + sum(weight * cost term); rel_std from leave-one-network-out."""

    space: Any
    weights: dict[str, float]
    offset: float
    rel_std: float
    n: int
    kind: str

    def predict(self, arch: Any) -> tuple[float, float]:
        mean = float(_linear(self.weights, self.space.features(arch), self.offset))
        return mean, abs(mean) * self.rel_std

    def torch_predict(self, terms: dict[str, Any]) -> Any:
        return _linear(self.weights, terms, self.offset)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "measurements": self.n, "rel_std_loo": self.rel_std,
                "offset_ms": self.offset, "weights_ms": {k: v for k, v in self.weights.items() if v}}


# -- whole-network fit -----------------------------------------------------------------------------
def _design(terms: Sequence[dict[str, float]], tier: int) -> np.ndarray:
    cols = [[sum(t[b] for b in bases) for t in terms] for _, bases in TIERS[tier]]
    return np.asarray(cols, dtype=np.float64).T


def _tier_fit(terms: Sequence[dict[str, float]], y: np.ndarray, tier: int) -> tuple[dict[str, float], float]:
    x = _design(terms, tier)
    coef = _nnls(np.hstack([x, np.ones((len(x), 1))]), y)
    weights = {f: 0.0 for f in FEATURES}
    for (_, bases), c in zip(TIERS[tier], coef[:-1]):
        for b in bases:
            weights[b] += float(c)
    return weights, float(coef[-1])


class CostModel:
    @staticmethod
    def fit(space: Any, archs: Sequence[Any], latency_ms: Sequence[float]) -> LinearLatency:
        if not archs or len(archs) != len(latency_ms):
            raise UsageError("a latency model needs at least one measured architecture")
        terms = [space.features(a) for a in archs]
        y = np.asarray(latency_ms, dtype=np.float64)
        n = len(y)
        if n < 3:   # proportional to the work
            w = float(y.sum() / max(sum(sum(t[m] for m in _MACS) for t in terms), 1e-12))
            return LinearLatency(space, {f: (w if f in _MACS else 0.0) for f in FEATURES}, 0.0, PRIOR_REL_STD, n,
                                 "cost-terms NNLS (whole networks)")
        best: tuple[float, int] | None = None
        for tier in range(len(TIERS)):
            if tier > 0 and n < len(TIERS[tier]) + 2:
                break
            errs = []
            for i in range(n):
                keep = [j for j in range(n) if j != i]
                w, off = _tier_fit([terms[j] for j in keep], y[keep], tier)
                errs.append((float(_linear(w, terms[i], off)) - y[i]) / y[i])
            loo = float(np.sqrt(np.mean(np.square(errs))))
            if best is None or loo < best[0] - 1e-12:
                best = (loo, tier)
        assert best is not None
        w, off = _tier_fit(terms, y, best[1])
        return LinearLatency(space, w, off, max(best[0], MIN_REL_STD), n, "cost-terms NNLS (whole networks)")


# -- per-layer fit ----------------------------------------------------------------------------------
def _kind_fit(rows: list[dict[str, Any]], kind: str) -> dict[str, float]:
    work, elems, pix, count = KINDS[kind]
    names = {"work": work, "elems": elems, "pix": pix}
    cols = [c for c in ("work", "elems", "pix") if names[c]]
    y = np.asarray([r["ms"] for r in rows])
    if len(rows) >= 2 * (len(cols) + 1):
        coef = _nnls(np.asarray([[r[c] for c in cols] + [1.0] for r in rows]), y)
    else:   # few rows: proportional to the elements (or the work), no set-up term
        col = "elems" if elems else "work"
        coef = np.zeros(len(cols) + 1)
        coef[cols.index(col)] = float(y.sum() / max(sum(r[col] for r in rows), 1e-12))
    out = {names[c]: float(v) for c, v in zip(cols, coef[:-1])}
    out[count] = float(coef[-1])
    return out


def _layer_weights(measured: Sequence[Any]) -> dict[str, float]:
    rows = [r for m in measured for r in m["rows"]]
    weights = {f: 0.0 for f in FEATURES}
    per_elem = [r["ms"] / r["elems"] for r in rows if r["elems"] > 0 and r["kind"] != "other"]
    fallback = float(np.median(per_elem)) if per_elem else 0.0
    for kind, (_work, elems, _pix, _count) in KINDS.items():
        mine = [r for r in rows if r["kind"] == kind]
        if mine:
            weights.update(_kind_fit(mine, kind))
        elif elems:   # never measured: cost like a typical element of the measured layers
            weights[elems] = fallback
    return weights


def _offset(space: Any, measured: Sequence[Any], weights: dict[str, float]) -> float:
    return float(np.median([m["total_ms"] - float(_linear(weights, space.features(m["arch"]), 0.0))
                            for m in measured]))


class LayerCostModel:
    @staticmethod
    def fit(space: Any, measured: Sequence[dict[str, Any]]) -> LinearLatency:
        """``measured``: {"arch", "total_ms", "rows": [{kind, work, elems, ms}]} per network."""
        if not measured:
            raise UsageError("a latency model needs at least one measured architecture")
        n = len(measured)
        if n >= 3:
            errs = []
            for i in range(n):
                rest = [m for j, m in enumerate(measured) if j != i]
                w = _layer_weights(rest)
                pred = float(_linear(w, space.features(measured[i]["arch"]), _offset(space, rest, w)))
                errs.append((pred - measured[i]["total_ms"]) / measured[i]["total_ms"])
            rel = max(float(np.sqrt(np.mean(np.square(errs)))), MIN_REL_STD)
        else:
            rel = PRIOR_REL_STD
        w = _layer_weights(measured)
        return LinearLatency(space, w, _offset(space, measured, w), rel, n, "per-layer NNLS by operator kind")


def fit_latency(space: Any, records: Sequence[Any]) -> LinearLatency:
    """The per-layer model when every measurement carries layer rows, else the whole-network one."""
    ms = []
    for r in records:
        m = r.measurement
        if not m.layers or not m.count_per_inference:
            return CostModel.fit(space, [x.arch for x in records], [x.measurement.latency_ms for x in records])
        scale = m.latency_ms / float(m.count_max or m.count_per_inference)     # ms per count
        ms.append({"arch": r.arch, "total_ms": m.latency_ms,
                   "rows": [{**row, "ms": row["count"] * scale} for row in m.layers]})
    return LayerCostModel.fit(space, ms)


@dataclass(frozen=True)
class ResourceModel:
    space: Any
    flash_offset: float
    ram_offset: float
    flash_spread: float
    ram_spread: float

    @staticmethod
    def fit(space: Any, archs: Sequence[Any], flash_bytes: Sequence[int], ram_bytes: Sequence[int]) -> "ResourceModel":
        if not archs:
            raise UsageError("a resource model needs at least one measured architecture")
        est = [space.memory_estimate(a) for a in archs]
        fr = np.asarray(flash_bytes, float) - np.asarray([e["weights_bytes"] for e in est], float)
        rr = np.asarray(ram_bytes, float) - np.asarray([e["arena_bytes"] for e in est], float)
        return ResourceModel(space, float(np.median(fr)), float(np.median(rr)),
                             float(np.max(np.abs(fr - np.median(fr)))), float(np.max(np.abs(rr - np.median(rr)))))

    def predict(self, arch: Any) -> tuple[float, float]:
        """(flash_bytes, ram_bytes) upper estimates (offset + largest deviation seen)."""
        e = self.space.memory_estimate(arch)
        return (e["weights_bytes"] + self.flash_offset + self.flash_spread,
                e["arena_bytes"] + self.ram_offset + self.ram_spread)
