"""The runtime's fixed cost per inference, and the measured figure of each LUT row net of it.

A single-operator model measured whole on a Linux device includes the interpreter's per-invoke
cost; a whole model pays it once. The ``chain`` family (n tiny ADDs, n = 1..8) measures it: the
intercept of figure vs n. On a microcontroller, per-layer counts contain no such cost (the layer
stamps sit around each kernel call), so it is 0 by construction there.

On a noisy device a configuration measured in several sessions keeps its fastest session's p50:
interference from other processes only ever slows a session down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgekit.core.errors import InputFileError
from edgekit.lut.table import value_column


@dataclass(frozen=True)
class Overhead:
    value: float          # per inference, in the LUT's unit (ms or instructions)
    per_op: float         # slope: the cost of one tiny ADD
    samples: int

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "per_op": self.per_op, "samples": self.samples}


def collapse_sessions(rows: Any) -> Any:
    """One row per (config, variant, op position): the fastest session's figure."""
    if rows.empty:
        return rows
    col = value_column(str(rows["method"].iloc[0]))
    rows = rows[rows[col].notna()]
    idx = rows.groupby(["config_key", "variant", "op_pos"])[col].idxmin()
    return rows.loc[idx.to_numpy()].reset_index(drop=True)


def estimate_overhead(rows: Any) -> Overhead:
    col = value_column(str(rows["method"].iloc[0]))
    if col != "latency_ms_p50":
        return Overhead(0.0, 0.0, 0)
    chains = rows[rows["family"] == "chain"]
    if len(chains) < 2:
        raise InputFileError("the LUT has fewer than two chain measurements: the runtime's fixed cost per "
                             "inference is unknown", "rerun `edgekit lut build` (it measures the chain family)")
    n = chains["n_ops"].to_numpy(dtype=float)
    y = chains[col].to_numpy(dtype=float)
    if len(set(n)) < 2:
        raise InputFileError("the LUT's chain measurements all have the same length",
                             "rerun `edgekit lut build` with more configurations")
    # robust line: least squares after dropping points far from a first fit (interference spikes)
    a, b = np.polyfit(n, y, 1)
    resid = np.abs(y - (a * n + b))
    keep = resid <= 3 * np.median(resid) + 1e-12
    if keep.sum() >= 2 and len(set(n[keep])) >= 2:
        a, b = np.polyfit(n[keep], y[keep], 1)
    return Overhead(max(float(b), 0.0), max(float(a), 0.0), int(len(chains)))


def net_values(rows: Any, overhead: Overhead) -> np.ndarray:
    """Each row's figure net of the per-inference cost (whole-model rows only: layer rows on a
    microcontroller have op_pos >= 0 and carry none). Clipped at 0: noise can push a tiny
    operator's measured time below the fixed cost; its work is then too small to resolve."""
    col = value_column(str(rows["method"].iloc[0]))
    y = rows[col].to_numpy(dtype=float)
    whole = rows["op_pos"].to_numpy() < 0
    return np.where(whole, np.maximum(y - overhead.value, 0.0), y)
