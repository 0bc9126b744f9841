"""Accuracy on whole models the predictor never saw, measured on the same device: RMSE, MAPE, the
share within +-5 % and +-10 %, Kendall tau and Spearman rho, for the FLOPs-proportional baseline,
the LUT sum, the per-kernel LightGBM sum and the corrected LightGBM prediction, side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgekit.core.artifact import atomic_write_text
from edgekit.predict.predictor import UNITS, Predictor
from edgekit.predict.train import WholeModel

METHODS = ("flops", "lut_sum", "gbm", "gbm_corrected")
LABELS = {"flops": "FLOPs-proportional", "lut_sum": "LUT sum", "gbm": "LightGBM per kernel",
          "gbm_corrected": "LightGBM + whole-model correction"}


def accuracy(pred: np.ndarray, meas: np.ndarray) -> dict[str, float]:
    from scipy.stats import kendalltau, spearmanr

    pred, meas = np.asarray(pred, dtype=float), np.asarray(meas, dtype=float)
    rel = pred / meas - 1.0
    n = len(meas)
    out = {"n": n, "rmse": float(np.sqrt(np.mean((pred - meas) ** 2))), "mape_pct": float(np.mean(np.abs(rel)) * 100),
           "within5_pct": float(np.mean(np.abs(rel) <= 0.05) * 100),
           "within10_pct": float(np.mean(np.abs(rel) <= 0.10) * 100)}
    if n >= 3:
        out["kendall_tau"] = float(kendalltau(pred, meas).statistic)
        out["spearman_rho"] = float(spearmanr(pred, meas).statistic)
    return out


@dataclass(frozen=True)
class EvalResult:
    device_id: str
    figure: str
    rows: list[dict[str, Any]]                   # per model
    table: dict[str, dict[str, dict[str, float]]]   # subset -> method -> metrics

    def to_json(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "figure": self.figure, "unit": UNITS[self.figure], "table": self.table,
                "models": self.rows}


def evaluate(pred: Predictor, models: list[WholeModel]) -> EvalResult:
    rows = []
    for m, p in zip(models, pred.predict_many([m.graph for m in models])):
        rows.append({"model": m.name, "source": m.source, "measured": m.value, **p.by_method,
                     "interval_lo": p.interval[0], "interval_hi": p.interval[1], "lut_hit_share": p.lut_hit_share,
                     "n_ops": p.n_ops, "fused_pairs": p.fused_pairs, "trace_ids": list(m.trace_keys)})
    subsets = {"all": rows, **{s: [r for r in rows if r["source"] == s] for s in sorted({r["source"] for r in rows})}}
    table: dict[str, dict[str, dict[str, float]]] = {}
    for name, sub in subsets.items():
        if not sub:
            continue
        meas = np.array([r["measured"] for r in sub])
        table[name] = {}
        for method in METHODS:
            vals = [r[method] for r in sub]
            if any(v is None for v in vals):
                continue
            table[name][method] = accuracy(np.array(vals, dtype=float), meas)
        inside = [r["interval_lo"] <= r["measured"] <= r["interval_hi"] for r in sub]
        table[name]["gbm_corrected"]["interval80_coverage_pct"] = float(np.mean(inside) * 100)
    return EvalResult(pred.meta["device_id"], pred.figure, rows, table)


def format_table(res: EvalResult, subset: str = "all") -> str:
    unit = UNITS[res.figure]
    lines = [f"{res.device_id}: {res.table[subset]['gbm_corrected']['n']} held-out models ({subset}), figure "
             f"{res.figure} [{unit}]",
             f"{'method':<36} {'RMSE':>11} {'MAPE %':>8} {'±5 %':>7} {'±10 %':>7} {'tau':>6} {'rho':>6}"]
    for method, m in res.table[subset].items():
        lines.append(f"{LABELS[method]:<36} {m['rmse']:>11.4g} {m['mape_pct']:>8.2f} {m['within5_pct']:>7.1f} "
                     f"{m['within10_pct']:>7.1f} {m.get('kendall_tau', float('nan')):>6.3f} "
                     f"{m.get('spearman_rho', float('nan')):>6.3f}")
    return "\n".join(lines)


def plot(res: EvalResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    unit = UNITS[res.figure]
    fig, axes = plt.subplots(1, len(METHODS), figsize=(4.2 * len(METHODS), 4.2), sharex=True, sharey=True)
    meas = np.array([r["measured"] for r in res.rows])
    lo, hi = meas.min() * 0.7, meas.max() * 1.4
    markers = {"arch": "o", "converter": "s", "zoo": "^", "lut-unit": "x"}
    for ax, method in zip(axes, METHODS):
        for src in sorted({r["source"] for r in res.rows}):
            sub = [r for r in res.rows if r["source"] == src and r[method] is not None]
            ax.scatter([r["measured"] for r in sub], [r[method] for r in sub], s=12, marker=markers.get(src, "o"),
                       label=src, alpha=0.75)
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.fill_between([lo, hi], [lo * 0.9, hi * 0.9], [lo * 1.1, hi * 1.1], color="grey", alpha=0.2, label="±10 %")
        m = res.table["all"].get(method)
        title = LABELS[method] if m is None else f"{LABELS[method]}\nMAPE {m['mape_pct']:.1f} %, ±10 % {m['within10_pct']:.0f} %"
        ax.set_title(title, fontsize=9)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(f"measured [{unit}]")
    axes[0].set_ylabel(f"predicted (modelled) [{unit}]")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"{res.device_id}: predicted vs measured on held-out models", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_outputs(res: EvalResult, out_dir: Path) -> dict[str, Path]:
    import json

    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    csv = out_dir / f"eval-{res.device_id}.csv"
    pd.DataFrame([{k: v for k, v in r.items() if k != "trace_ids"} for r in res.rows]).to_csv(csv, index=False)
    js = out_dir / f"eval-{res.device_id}.json"
    atomic_write_text(js, json.dumps(res.to_json(), indent=1, default=str))
    png = plot(res, out_dir / f"eval-{res.device_id}.png")
    return {"csv": csv, "json": js, "png": png}
