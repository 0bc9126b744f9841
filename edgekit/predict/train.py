"""Fit a device's predictor from its LUT and its measured whole models.

- LUT rows of one measurement configuration, each configuration's fastest session kept;
- the fixed cost per inference (chain family) and the fusion rules (pair family) from those rows;
- per-kernel models and the LUT-sum table from the operator rows, net of the fixed cost;
- the whole-model correction and the FLOPs baseline from whole models measured on the device:
  training architectures, plus (wall-clock devices) the LUT's block and pair models measured whole.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

import numpy as np

from edgekit.core.errors import InputFileError
from edgekit.core.profile import DeviceProfile
from edgekit.lut.fusion import analyze
from edgekit.lut.overhead import collapse_sessions, estimate_overhead, net_values
from edgekit.lut.signatures import FEATURES
from edgekit.lut.space import Config, variant_bytes
from edgekit.lut.table import LutTable, latest, value_column
from edgekit.predict.gbm import KernelModels
from edgekit.predict.lut_sum import LutSum
from edgekit.predict.predictor import Predictor
from edgekit.predict.whole_model import fit_correction
from edgekit.tflite.ir import Graph
from edgekit.tflite.reader import read_tflite_bytes


@dataclass(frozen=True)
class WholeModel:
    name: str
    graph: Graph
    value: float                     # measured figure (LUT unit)
    trace_keys: tuple[str, ...]
    source: str                      # arch | zoo | lut-unit


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


def lut_rows(table: LutTable, mkey: str | None = None) -> Any:
    """The table's rows of one measurement configuration (the latest when not named)."""
    rows = table.rows()
    if rows.empty:
        raise InputFileError(f"the LUT of {table.device_id} under {table.root} is empty",
                             f"run `edgekit lut build --device {table.device_id}` first")
    rows = latest(rows) if mkey is None else rows[rows["measure_key"] == mkey]
    if rows.empty:
        raise InputFileError(f"the LUT of {table.device_id} has no rows of measurement configuration {mkey}")
    return rows


def unit_models(rows: Any, overhead_value: float) -> list[WholeModel]:
    """Blocks and pairs measured whole (wall-clock devices): small whole models for the correction."""
    col = value_column(str(rows["method"].iloc[0]))
    units = collapse_sessions(rows[(rows["op_pos"] < 0) & (rows["n_ops"] > 1) & (rows["family"] != "chain")])
    out = []
    for _, r in units.iterrows():
        cfg = Config.from_json(r["config"])
        graph = read_tflite_bytes(variant_bytes(cfg, r["variant"]), f"{cfg.family}-{cfg.key}-{r['variant']}")
        out.append(WholeModel(graph.name, graph, float(r[col]), (str(r["trace_run_key"]),), "lut-unit"))
    return out


def _flops_fit(macs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """figure = a * MACs + b, least relative error (a, b >= 0)."""
    from scipy.optimize import nnls

    Z = np.column_stack([macs, np.ones(len(macs))]) / y[:, None]
    (a, b), _ = nnls(Z, np.ones(len(y)))
    return float(a), float(b)


def train_predictor(table: LutTable, whole: list[WholeModel], profile: DeviceProfile, seed: int = 0,
                    mkey: str | None = None) -> Predictor:
    rows = lut_rows(table, mkey)
    col = value_column(str(rows["method"].iloc[0]))
    collapsed = collapse_sessions(rows)
    overhead = estimate_overhead(collapsed)
    rules = analyze(collapsed, overhead)
    ops = collapsed[(collapsed["n_ops"] == 1) & collapsed["f_macs"].notna()].reset_index(drop=True)
    net = net_values(ops, overhead)
    F = ops[[f"f_{n}" for n in FEATURES]].to_numpy(dtype=float)
    types = ops["kernel_type"].to_numpy()
    # an operator whose time is below what the device resolves still costs something: floor it
    floor = max(overhead.per_op, 1e-9) * 0.5 if col == "latency_ms_p50" else 1.0
    kernels = KernelModels.fit(F, np.maximum(net, floor), types, profile.id, seed)
    lut = LutSum.from_rows(ops, net, profile.id)
    meta: dict[str, Any] = {
        "device_id": profile.id, "device_kind": profile.kind, "emulated": profile.emulated,
        "method": str(rows["method"].iloc[0]), "figure": col, "clock_hz": profile.clock_hz,
        "nj_per_instruction": profile.energy.get("nj_per_instruction"),
        # microcontrollers: operator signatures carry the code generator's in-place decision
        "inplace_cpu": profile.cpu if bool((rows["f_inplace"].fillna(-1) >= 0).any()) else None,
        "measure_key": str(rows["measure_key"].iloc[0]), "measure_config": json.loads(rows["measure_config"].iloc[0]),
        "lut_rows": int(len(rows)), "lut_trace_ids": sorted({str(k) for k in rows["trace_run_key"].dropna()}),
        "kernel_rows": {t: int((types == t).sum()) for t in sorted(set(types.tolist()))},
        "features": list(FEATURES),
        "versions": {"edgekit": _version("edgekit"), "lightgbm": _version("lightgbm"), "numpy": _version("numpy"),
                     "python": platform.python_version()},
        "trained_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seed": seed,
    }
    pred = Predictor(meta, overhead, rules, kernels, lut, fit_correction(np.zeros((0, 1)), np.zeros(0)), None)
    extra = unit_models(rows, overhead.value) if col == "latency_ms_p50" else []
    models = list(whole) + extra
    if not models:
        raise InputFileError(f"no whole model of {profile.id} is measured: the correction cannot be fitted",
                             "measure training architectures (`edgekit predictor train` does so by default)")
    X, r, macs, y = [], [], [], []
    for m, raw in zip(models, pred.raw_many([m.graph for m in models])):
        X.append(raw["features"])
        r.append(np.log(m.value / float(raw["gbm_members"].mean())))
        if m.source != "lut-unit":
            macs.append(raw["macs"])
            y.append(m.value)
    pred.correction = fit_correction(np.array(X), np.array(r), seed)
    pred.flops = _flops_fit(np.array(macs, dtype=float), np.array(y)) if len(y) >= 2 else None
    meta.update({"whole_models": {"arch": sum(m.source == "arch" for m in models),
                                  "zoo": sum(m.source == "zoo" for m in models),
                                  "lut-unit": len(extra)},
                 "whole_trace_ids": sorted({k for m in models for k in m.trace_keys}),
                 "overhead": overhead.to_json(), "fusion": {k: v.to_json() for k, v in rules.items()}})
    return pred
