"""Adapt a predictor trained on one device to another from a few (<= 20) measured architectures.

A learned per-kernel-group model on top of the source predictor: the source splits each model's
predicted figure by kernel group (convolutions, pointwise, depthwise, fully connected,
element-wise, padding, pooling, reductions); next to those parts stand each group's MACs and
elements moved (the work a new runtime may weigh differently) and a constant per inference. The
new device's figure is fitted as a non-negative combination of these columns (relative error,
columns scaled, ridge toward 0); the ridge strength is chosen by leave-one-out on the few samples
themselves. A single global factor could not change a ranking; these weights can, which is what
a device with other relative kernel costs needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekit.core.errors import UsageError
from edgekit.lut.signatures import FEATURES
from edgekit.predict.predictor import Predictor
from edgekit.tflite.ir import Graph

PARTS = ("conv", "conv1x1", "dwconv", "fc", "add", "pad", "pool", "mean", "other")
_PART = {"avgpool": "pool", "maxpool": "pool"}
LAMBDAS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
_MACS, _IN, _OUT = FEATURES.index("macs"), FEATURES.index("in_elems"), FEATURES.index("out_elems")


def _group(kernel_type: str) -> int:
    name = _PART.get(kernel_type, kernel_type)
    return PARTS.index(name) if name in PARTS else PARTS.index("other")


def parts(pred: Predictor, graphs: list[Graph]) -> np.ndarray:
    """(graphs, columns): the source predictor's figure per kernel group, the constant 1, then per
    group the MACs and the elements moved."""
    n = len(PARTS)
    out = np.zeros((len(graphs), 3 * n + 1))
    for i, r in enumerate(pred.raw_many(graphs)):
        for t, x in r["by_type"].items():
            out[i, _group(t)] += x
        out[i, n] = 1.0
        for s in r["units"].sigs:
            j = _group(s.kernel_type)
            out[i, n + 1 + j] += s.features[_MACS]
            out[i, 2 * n + 1 + j] += s.features[_IN] + s.features[_OUT]
    return out


@dataclass(frozen=True)
class Adapted:
    weights: np.ndarray          # per column of ``parts``
    lam: float

    def predict(self, P: np.ndarray) -> np.ndarray:
        return np.atleast_2d(P) @ self.weights


def _solve(P: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    from scipy.optimize import nnls

    A = P / y[:, None]                                   # relative error
    scale = np.maximum(np.abs(A).max(axis=0), 1e-30)     # columns of very different units
    A = np.vstack([A / scale, np.sqrt(lam) * np.eye(P.shape[1])])
    w, _ = nnls(A, np.r_[np.ones(len(y)), np.zeros(P.shape[1])])
    return w / scale


def fit_adapted(P: np.ndarray, y: np.ndarray) -> Adapted:
    if len(y) < 2:
        raise UsageError("adaptation needs at least 2 measured architectures of the new device")
    if len(y) > 20:
        raise UsageError(f"few-shot adaptation takes at most 20 architectures, got {len(y)}",
                         "with more, train a predictor of the new device (`edgekit predictor train`)")
    best, best_err = 1.0, np.inf
    if len(y) >= 4:
        for lam in LAMBDAS:
            err = 0.0
            for i in range(len(y)):
                keep = np.arange(len(y)) != i
                pred = float(P[i] @ _solve(P[keep], y[keep], lam))
                err += (np.log(max(pred, 1e-30) / y[i])) ** 2
            if err < best_err:
                best, best_err = lam, err
    return Adapted(_solve(P, y, best), best)


def adaptation_curve(source: Predictor, graphs: list[Graph], measured: np.ndarray, ks: tuple[int, ...] = (5, 10, 20),
                     draws: int = 20, seed: int = 0) -> dict[int, dict[str, float]]:
    """Spearman rho (and MAPE) on the models not used for fitting, for k fitted models, averaged
    over ``draws`` random choices of the k. ``k = 0`` is the source predictor as it is."""
    from scipy.stats import spearmanr

    P = parts(source, graphs)
    y = np.asarray(measured, dtype=float)
    base = P[:, :len(PARTS)].sum(axis=1) + source.overhead.value
    out = {0: {"spearman_rho": float(spearmanr(base, y).statistic), "draws": 1}}
    rng = np.random.default_rng(seed)
    for k in ks:
        if k >= len(y) - 2:
            continue
        rhos, mapes = [], []
        for _ in range(draws):
            idx = rng.permutation(len(y))
            fit, rest = idx[:k], idx[k:]
            a = fit_adapted(P[fit], y[fit])
            p = a.predict(P[rest])
            rhos.append(float(spearmanr(p, y[rest]).statistic))
            mapes.append(float(np.mean(np.abs(p / y[rest] - 1)) * 100))
        out[k] = {"spearman_rho": float(np.mean(rhos)), "spearman_rho_std": float(np.std(rhos)),
                  "mape_pct": float(np.mean(mapes)), "draws": draws}
    return out
