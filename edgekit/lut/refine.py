"""Adaptive refinement (as nn-Meter's adaptive data sampler does): find the measured samples the
current per-kernel model predicts worst, and measure their neighbourhood next.

The model here is a quick cross-validated LightGBM per kernel type on the configuration features
(log target); the out-of-fold relative error of each sample says where the table is too sparse.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from edgekit.lut.table import FEATURE_COLUMNS

_PARAMS = {"objective": "regression", "learning_rate": 0.1, "num_leaves": 15, "min_data_in_leaf": 3,
           "min_data_in_bin": 1, "verbose": -1, "seed": 0, "deterministic": True, "num_threads": 1}


def out_of_fold_errors(ops: Any, value_col: str, folds: int = 5, rounds: int = 120) -> Any:
    """Relative error |prediction / measured - 1| of each operator row, predicted by a model that did
    not see it. Kernel types with too few rows to cross-validate get NaN (they are refined first);
    rows measured as 0 (no code runs) get 0."""
    import lightgbm as lgb

    err = np.full(len(ops), np.nan)
    pos = {k: i for i, k in enumerate(ops.index)}
    for k in ops.index[ops[value_col].to_numpy(dtype=float) <= 0]:
        err[pos[k]] = 0.0    # measured as running no code (a view on a microcontroller): nothing to learn
    for _, g in ops.groupby("kernel_type"):
        y = g[value_col].to_numpy(dtype=float)
        keep = y > 0
        g, y = g[keep], y[keep]
        if len(g) < 2 * folds:
            continue
        x = g[list(FEATURE_COLUMNS)].to_numpy(dtype=float)
        idx = np.arange(len(g)) % folds
        pred = np.empty(len(g))
        for f in range(folds):
            tr, te = idx != f, idx == f
            model = lgb.train(_PARAMS, lgb.Dataset(x[tr], np.log(y[tr])), num_boost_round=rounds)
            pred[te] = np.exp(model.predict(x[te], num_threads=1))
        for k, e in zip(g.index, np.abs(pred / y - 1.0)):
            err[pos[k]] = e
    return err


def worst_samples(rows: Any, value_col: str, n: int) -> list[tuple[str, np.ndarray, float, str]]:
    """(family, u, error, configuration JSON) of the ``n`` operator rows predicted worst, one per configuration; rows
    of kernel types too thin to cross-validate come first."""
    ops = rows[(rows["n_ops"] == 1) & rows[value_col].notna()].copy()
    if ops.empty:
        return []
    ops["err"] = out_of_fold_errors(ops, value_col)
    ops["err"] = ops["err"].fillna(np.inf)
    ops = ops.sort_values("err", ascending=False).drop_duplicates("config_key")
    return [(r["family"], np.array(json.loads(r["u"])), float(r["err"]), r["config"]) for _, r in ops.head(n).iterrows()]
