"""Adapt a predictor trained on one device to another from a few (<= 20) measured architectures.

A learned per-kernel-type scaling: the source predictor splits each model's predicted figure by
kernel type (convolutions, pointwise, depthwise, fully connected, element-wise, padding, pooling,
reductions) plus a constant per inference; the new device's figure is fitted as a non-negative
weighted sum of those parts, with a ridge pull of every weight toward one common scale (the
ratio a single global factor would give). A global factor alone cannot change a ranking; the
per-type weights can, which is what a new device with other relative kernel costs needs. The
ridge strength is chosen by leave-one-out on the few samples themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekit.core.errors import UsageError
from edgekit.predict.predictor import Predictor
from edgekit.tflite.ir import Graph

PARTS = ("conv", "conv1x1", "dwconv", "fc", "add", "pad", "pool", "mean", "other")
_PART = {"avgpool": "pool", "maxpool": "pool"}
LAMBDAS = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def parts(pred: Predictor, graphs: list[Graph]) -> np.ndarray:
    """(graphs, parts + 1): the source predictor's figure of each graph split by kernel group,
    then the constant 1."""
    out = np.zeros((len(graphs), len(PARTS) + 1))
    for i, r in enumerate(pred.raw_many(graphs)):
        for t, x in r["by_type"].items():
            name = _PART.get(t, t)
            out[i, PARTS.index(name) if name in PARTS else PARTS.index("other")] += x
        out[i, -1] = 1.0
    return out


@dataclass(frozen=True)
class Adapted:
    weights: np.ndarray          # per part, then the constant
    scale: float                 # the common scale the ridge pulls toward
    lam: float

    def predict(self, P: np.ndarray) -> np.ndarray:
        return np.atleast_2d(P) @ self.weights


def _solve(P: np.ndarray, y: np.ndarray, scale: float, lam: float, const_scale: float) -> np.ndarray:
    from scipy.optimize import nnls

    # relative error rows, then one prior row per weight: parts pulled to `scale`, the constant to 0
    # (in units of the median figure, so that the pull is comparable across parts)
    A = P / y[:, None]
    b = np.ones(len(y))
    norm = np.median(P[:, :-1].sum(axis=1) / y) if len(y) else 1.0
    prior_A = np.sqrt(lam) * np.diag(np.r_[np.full(P.shape[1] - 1, norm), const_scale])
    prior_b = np.sqrt(lam) * np.r_[np.full(P.shape[1] - 1, norm * scale), 0.0]
    w, _ = nnls(np.vstack([A, prior_A]), np.r_[b, prior_b])
    return w


def fit_adapted(P: np.ndarray, y: np.ndarray) -> Adapted:
    if len(y) < 2:
        raise UsageError("adaptation needs at least 2 measured architectures of the new device")
    if len(y) > 20:
        raise UsageError(f"few-shot adaptation takes at most 20 architectures, got {len(y)}",
                         "with more, train a predictor of the new device (`edgekit predictor train`)")
    total = P[:, :-1].sum(axis=1)
    scale = float(np.median(y / np.maximum(total, 1e-30)))
    const_scale = 1.0 / float(np.median(y))
    best, best_err = LAMBDAS[-1], np.inf
    if len(y) >= 4:
        for lam in LAMBDAS:
            err = 0.0
            for i in range(len(y)):
                keep = np.arange(len(y)) != i
                w = _solve(P[keep], y[keep], scale, lam, const_scale)
                err += (np.log(max(float(P[i] @ w), 1e-30) / y[i])) ** 2
            if err < best_err:
                best, best_err = lam, err
    return Adapted(_solve(P, y, scale, best, const_scale), scale, best)


def adaptation_curve(source: Predictor, graphs: list[Graph], measured: np.ndarray, ks: tuple[int, ...] = (5, 10, 20),
                     draws: int = 20, seed: int = 0) -> dict[int, dict[str, float]]:
    """Spearman rho (and MAPE) on the models not used for fitting, for k fitted models, averaged
    over ``draws`` random choices of the k. ``k = 0`` is the source predictor as it is."""
    from scipy.stats import spearmanr

    P = parts(source, graphs)
    y = np.asarray(measured, dtype=float)
    base = P[:, :-1].sum(axis=1) + source.overhead.value
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
