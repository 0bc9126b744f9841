"""Whole-model correction: a LightGBM ensemble on graph features that learns the ratio between a
model's measured figure and the sum of its per-kernel predictions (what no operator sees alone:
inter-layer cache effects, the runtime's partitioning, scheduling), trained on whole models
measured on the device. Out-of-fold residuals on those models give the calibrated interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgekit.predict.gbm import ENSEMBLE
from edgekit.predict.units import GraphUnits

GROUPS = ("conv", "conv1x1", "dwconv", "fc", "add", "pad", "other")
GRAPH_FEATURES = ("log_kernel_sum", "n_ops", *(f"share_{g}" for g in GROUPS), "log_macs", "log_act_max",
                  "log_act_total", "log_weights", "n_fused", "log_input")


def graph_features(units: GraphUnits, per_op: np.ndarray, kernel_sum: float) -> np.ndarray:
    """Features of one graph; ``per_op`` are its mean per-operator predictions."""
    g = units.graph
    types = units.kernel_types()
    tot = max(float(per_op.sum()), 1e-12)
    shares = []
    for grp in GROUPS:
        m = [t == grp if grp != "other" else t not in GROUPS for t in types]
        shares.append(float(per_op[np.array(m, dtype=bool)].sum()) / tot if types else 0.0)
    acts = [t.nbytes for t in g.tensors if not t.is_constant]
    weights = sum(t.nbytes for t in g.tensors if t.is_constant)
    macs = sum(s.macs for s in units.sigs)
    inp = sum(g.tensor(i).num_elements for i in g.inputs)
    return np.array([np.log(max(kernel_sum, 1e-12)), len(units.sigs), *shares, np.log1p(macs), np.log1p(max(acts)),
                     np.log1p(sum(acts)), np.log1p(weights), len(units.pairs), np.log1p(inp)], dtype=float)


def _params(n: int, seed: int) -> dict[str, Any]:
    return {"objective": "regression", "learning_rate": 0.05, "num_leaves": 4, "min_data_in_leaf": max(3, n // 10),
            "min_data_in_bin": 1, "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8,
            "lambda_l2": 5.0, "verbose": -1, "seed": seed, "deterministic": True, "num_threads": 1}


@dataclass
class Correction:
    boosters: list[Any] = field(default_factory=list)
    q_lo: float = 0.0             # 10th / 90th percentile of out-of-fold log residuals
    q_hi: float = 0.0
    n_train: int = 0
    rounds: int = 150

    def predict_members(self, X: np.ndarray) -> np.ndarray:
        """(members, n) log-ratio corrections (0 without boosters)."""
        X = np.atleast_2d(X)
        if not self.boosters:
            return np.zeros((ENSEMBLE, len(X)))
        p = np.array([b.predict(X, num_threads=1) for b in self.boosters])
        return p[np.arange(ENSEMBLE) % len(p)]


def _train(X: np.ndarray, r: np.ndarray, rounds: int, seed: int) -> list[Any]:
    import lightgbm as lgb

    return [lgb.train(_params(len(r), seed * 100 + k), lgb.Dataset(X, r), num_boost_round=rounds)
            for k in range(ENSEMBLE)]


def fit_correction(X: np.ndarray, log_ratio: np.ndarray, seed: int = 0, rounds: int = 150,
                   folds: int = 5) -> Correction:
    """Needs at least 10 models; fewer give no correction (the interval then comes from the raw
    residuals)."""
    n = len(log_ratio)
    if n < 10:
        q = np.quantile(log_ratio, [0.1, 0.9]) if n >= 2 else np.zeros(2)
        return Correction([], float(q[0]), float(q[1]), n, rounds)
    oof = np.empty(n)
    idx = np.arange(n) % folds
    for f in range(folds):
        tr = idx != f
        bs = _train(X[tr], log_ratio[tr], rounds, seed)
        oof[~tr] = np.mean([b.predict(X[~tr], num_threads=1) for b in bs], axis=0)
    resid = log_ratio - oof
    q = np.quantile(resid, [0.1, 0.9])
    return Correction(_train(X, log_ratio, rounds, seed), float(q[0]), float(q[1]), n, rounds)
