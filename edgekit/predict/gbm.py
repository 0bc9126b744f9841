"""Per-kernel-type latency models on configuration features: a linear work model (non-negative
least squares on MACs, element counts, weights, loop counts, relative error) times a LightGBM
correction of its log-ratio, as an ensemble of bagged boosters (its spread is the model's
uncertainty).

The linear part extrapolates sensibly beyond the measured sizes (trees cannot); the boosters
learn what it misses (cache effects, kernel variants a runtime picks by shape). Saved as
LightGBM text plus the coefficients in JSON (edgekit.predict.io), never as pickles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgekit.core.errors import UnsupportedModelError
from edgekit.lut.signatures import FEATURES

BASE_TERMS = ("macs", "out_elems", "in_elems", "weight_elems", "out_pixels", "out_rows", "one")
_FI = {n: i for i, n in enumerate(FEATURES)}
ENSEMBLE = 5
MIN_ROWS_FOR_TREES = 12


def base_design(F: np.ndarray) -> np.ndarray:
    F = np.atleast_2d(F)
    return np.column_stack([F[:, _FI["macs"]], F[:, _FI["out_elems"]], F[:, _FI["in_elems"]], F[:, _FI["weight_elems"]],
                            F[:, _FI["h_out"]] * F[:, _FI["w_out"]], F[:, _FI["h_out"]], np.ones(len(F))])


def booster_params(n: int, seed: int, leaves: int = 15) -> dict[str, Any]:
    return {"objective": "regression", "learning_rate": 0.05, "num_leaves": leaves,
            "min_data_in_leaf": max(3, n // 60), "min_data_in_bin": 1, "bagging_fraction": 0.8, "bagging_freq": 1,
            "feature_fraction": 0.9, "lambda_l2": 1.0, "verbose": -1, "seed": seed, "deterministic": True,
            "num_threads": 1}


@dataclass
class KernelModel:
    kernel_type: str
    coef: np.ndarray                       # over BASE_TERMS
    floor: float                           # smallest figure the base may predict (a tenth of the smallest seen)
    boosters: list[Any] = field(default_factory=list)
    n_train: int = 0
    rounds: int = 0

    def base(self, F: np.ndarray) -> np.ndarray:
        return np.maximum(base_design(F) @ self.coef, self.floor)

    def predict_members(self, F: np.ndarray, members: int = ENSEMBLE) -> np.ndarray:
        """(members, n) predictions; without boosters every member is the linear model."""
        base = self.base(F)
        if not self.boosters:
            return np.tile(base, (members, 1))
        preds = np.array([base * np.exp(b.predict(np.atleast_2d(F), num_threads=1)) for b in self.boosters])
        return preds[np.arange(members) % len(preds)]


def fit_kernel(kernel_type: str, F: np.ndarray, y: np.ndarray, rounds: int = 300, seed: int = 0) -> KernelModel:
    import lightgbm as lgb
    from scipy.optimize import nnls

    keep = y > 0
    F, y = F[keep], y[keep]
    if len(y) == 0:
        raise UnsupportedModelError(f"no positive measurement of kernel type {kernel_type}",
                                    "rebuild the LUT with this family")
    Z = base_design(F)
    coef, _ = nnls(Z / y[:, None], np.ones(len(y)))   # relative error: each row divided by its figure
    model = KernelModel(kernel_type, coef, float(y.min()) / 10.0, n_train=len(y), rounds=rounds)
    if len(y) >= MIN_ROWS_FOR_TREES:
        r = np.log(y / model.base(F))
        for k in range(ENSEMBLE):
            model.boosters.append(lgb.train(booster_params(len(y), seed * 100 + k), lgb.Dataset(F, r),
                                            num_boost_round=rounds))
    return model


class KernelModels:
    def __init__(self, models: dict[str, KernelModel], device_id: str) -> None:
        self.models = models
        self.device_id = device_id

    @staticmethod
    def fit(F: np.ndarray, y: np.ndarray, types: np.ndarray, device_id: str, seed: int = 0) -> "KernelModels":
        return KernelModels({t: fit_kernel(t, F[types == t], y[types == t], seed=seed)
                             for t in sorted(set(types.tolist()))}, device_id)

    def predict_ops(self, F: np.ndarray, types: list[str]) -> np.ndarray:
        """(members, n_ops) per-operator figures."""
        missing = sorted({t for t in types if t not in self.models})
        if missing:
            raise UnsupportedModelError(f"the predictor of {self.device_id} has no model for kernel type(s) "
                                        f"{', '.join(missing)}",
                                        "rebuild the LUT with those families and retrain the predictor")
        out = np.zeros((ENSEMBLE, len(types)))
        idx: dict[str, list[int]] = {}
        for i, t in enumerate(types):
            idx.setdefault(t, []).append(i)
        for t, ii in idx.items():
            out[:, ii] = self.models[t].predict_members(F[ii])
        return out
