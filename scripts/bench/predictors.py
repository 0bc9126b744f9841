#!/usr/bin/env python3
"""Benchmark of the latency predictors (issue 6): per device, build the LUT (timed), train the
predictor on measured training architectures, evaluate on >= 100 held-out architectures plus the
Keras-converted ones and the MLPerf Tiny models, measured on the same device; then few-shot
adaptation between the devices (Spearman rho at 5, 10, 20 samples).

    .venv/bin/python scripts/bench/predictors.py [--devices qemu-m4,localhost-ssh] [--out DIR]

Every figure says what it is: qemu-m4 gives emulated instruction counts (qemu-icount, not cycles
of a real chip), localhost-ssh wall-clock milliseconds of this (shared, noisy) machine. For the
wall-clock device the measured noise (session-to-session spread of the same models) is reported
next to the accuracy: no predictor can be more accurate than the device repeats itself.
Outputs: <out>/bench-predictors.json, <out>/bench-predictors.md, eval-<device>.{csv,json,png}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from edgekit.core.assets import assets_dir  # noqa: E402
from edgekit.core.profile import load_profile  # noqa: E402
from edgekit.core.trace import TraceStore  # noqa: E402
from edgekit.lut.build import BuildOptions, build_lut  # noqa: E402
from edgekit.lut.table import LutTable  # noqa: E402
from edgekit.measure.options import ProfileOptions  # noqa: E402
from edgekit.predict.adapt import adaptation_curve  # noqa: E402
from edgekit.predict.evaluate import LABELS, evaluate, format_table, write_outputs  # noqa: E402
from edgekit.predict.io import default_predictor_dir, load_predictor, save_predictor  # noqa: E402
from edgekit.predict.train import train_predictor  # noqa: E402
from edgekit.predict.wholesets import measure_items, test_items, train_items  # noqa: E402

LINUX = ProfileOptions(repeats=20, warmup=5, min_seconds=0.1)   # as `edgekit lut build` defaults


def _sshd(start: bool):  # noqa: ANN202
    if not start:
        return None
    sys.path.insert(0, str(REPO / "scripts"))
    import sshd_local

    return sshd_local.start_sshd(sshd_local.DEFAULT_STATE, 2222)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _every(label: str, step: int = 10):  # noqa: ANN202
    return lambda k, n: (k % step == 0 or k == n) and log(f"{label}: {k}/{n}")


def noise(store: TraceStore, whole: list, sessions: int) -> dict[str, float]:
    """Session-to-session spread of the same held-out models (wall-clock devices)."""
    runs = store.runs().set_index("run_key")
    spread = []
    for m in whole:
        p50 = np.array([float(runs.loc[k, "latency_ms_p50"]) for k in m.trace_keys])
        if len(p50) >= 2:
            spread.append(np.abs(p50 / np.median(p50) - 1.0))
    s = np.concatenate(spread) if spread else np.zeros(0)
    best = np.array([max(x) for x in spread]) if spread else np.zeros(0)
    return {"sessions": sessions, "median_abs_dev_pct": float(np.median(s) * 100) if len(s) else float("nan"),
            "sessions_within5_pct": float(np.mean(s <= 0.05) * 100) if len(s) else float("nan"),
            "sessions_within10_pct": float(np.mean(s <= 0.10) * 100) if len(s) else float("nan"),
            "models_all_sessions_within10_pct": float(np.mean(best <= 0.10) * 100) if len(best) else float("nan")}


def bench_device(device: str, args: argparse.Namespace) -> dict:
    profile = load_profile(device, args.profiles)
    root = args.lut
    store = TraceStore(root / device / "traces")
    table = LutTable(root, device)
    out: dict = {"device": device, "emulated": profile.emulated, "method": profile.timing}
    if device not in args.skip_build.split(","):
        from edgekit.lut.measure import LinuxBackend, McuBackend

        backend = (McuBackend(profile, root, store) if profile.kind == "mcu"
                   else LinuxBackend.connect(profile, LINUX, root, store))
        t0 = time.monotonic()
        try:
            rep = build_lut(backend, table, profile.kind, BuildOptions(budget_s=args.budget),
                            on_progress=lambda stage, k, n: log(f"{device} LUT {stage}: {k}/{n}"))
        finally:
            backend.close()
        out["lut_build"] = {**vars(rep), "wall_s": time.monotonic() - t0}
    rows = table.rows()
    out["lut"] = {"rows": int(len(rows)), "signatures": int(rows["sig_key"].nunique())}
    t0 = time.monotonic()
    log(f"{device}: measuring {args.train_archs} training architectures")
    train = measure_items(train_items(args.train_archs, root / "archs"), profile, store, root, LINUX, args.sessions,
                          on_progress=_every(f"{device} training set"))
    pred = train_predictor(table, train, profile)
    save_predictor(pred, default_predictor_dir(root, device))
    out["train"] = {"archs": len(train), "wall_s": time.monotonic() - t0,
                    "fusion": {k: v.to_json() for k, v in pred.rules.items()}, "overhead": pred.overhead.to_json()}
    t0 = time.monotonic()
    items = test_items(args.archs, root / "archs", args.converter, True, assets_dir())
    log(f"{device}: measuring {len(items)} held-out models")
    held = measure_items(items, profile, store, root, LINUX, args.sessions, on_progress=_every(f"{device} held-out"))
    res = evaluate(load_predictor(default_predictor_dir(root, device)), held)
    files = write_outputs(res, args.out)
    out["eval"] = {"table": res.table, "files": {k: str(v) for k, v in files.items()},
                   "wall_s": time.monotonic() - t0, "text": format_table(res)}
    if profile.timing == "wallclock":
        out["noise"] = noise(store, held, args.sessions)
    out["_held"] = held
    return out


def markdown(results: list[dict], adapt: dict) -> str:
    lines = ["# Latency predictors: held-out accuracy", ""]
    for r in results:
        kind = "emulated instructions (qemu-icount)" if r["method"] == "qemu-icount" else "wall-clock ms (p50, fastest of the sessions)"
        lines.append(f"## {r['device']} — {kind}")
        if "lut_build" in r:
            b = r["lut_build"]
            lines.append(f"LUT build: {b['measured']} variants measured in {b['wall_s']:.0f} s "
                         f"({b['rounds']} refinement rounds); table: {r['lut']['rows']} rows, "
                         f"{r['lut']['signatures']} signatures")
        fused = [k for k, v in r["train"]["fusion"].items() if v["fused"]]
        lines.append(f"Fused pairs found: {', '.join(fused) or 'none'}; fixed cost per inference "
                     f"{r['train']['overhead']['value']:.4g}")
        for subset, t in r["eval"]["table"].items():
            lines += ["", f"**{subset}** (n = {t['gbm_corrected']['n']})", "",
                      "| method | RMSE | MAPE % | ±5 % | ±10 % | Kendall τ | Spearman ρ |", "|---|---:|---:|---:|---:|---:|---:|"]
            for m, v in t.items():
                lines.append(f"| {LABELS[m]} | {v['rmse']:.4g} | {v['mape_pct']:.2f} | {v['within5_pct']:.1f} | "
                             f"{v['within10_pct']:.1f} | {v.get('kendall_tau', float('nan')):.3f} | "
                             f"{v.get('spearman_rho', float('nan')):.3f} |")
        cov = r["eval"]["table"]["all"]["gbm_corrected"].get("interval80_coverage_pct")
        if cov is not None:
            lines.append(f"\nUncertainty: the 80 % interval of the LightGBM prediction holds the measured figure for "
                         f"{cov:.0f} % of the held-out models.")
        if "noise" in r:
            n = r["noise"]
            lines.append(f"\nMeasured noise ({n['sessions']} sessions per model): median deviation from the model's "
                         f"median {n['median_abs_dev_pct']:.1f} %, sessions within ±5 % {n['sessions_within5_pct']:.0f} %, "
                         f"±10 % {n['sessions_within10_pct']:.0f} %")
        lines.append("")
    for pair, curve in adapt.items():
        lines.append(f"Adaptation {pair}: " + ", ".join(f"k={k}: ρ {v['spearman_rho']:.3f}" for k, v in curve.items()))
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default="qemu-m4,localhost-ssh")
    ap.add_argument("--lut", type=Path, default=Path("edgekit-lut"))
    ap.add_argument("--out", type=Path, default=Path("bench-out/predictors"))
    ap.add_argument("--profiles", type=Path, default=None)
    ap.add_argument("--budget", type=float, default=BuildOptions().budget_s, help="LUT build budget per device (s)")
    ap.add_argument("--archs", type=int, default=100, help="held-out architectures per device")
    ap.add_argument("--converter", type=int, default=6, help="held-out architectures through the TFLite converter")
    ap.add_argument("--train-archs", type=int, default=40)
    ap.add_argument("--sessions", type=int, default=3, help="wall-clock: sessions per whole model")
    ap.add_argument("--skip-build", default="", metavar="DEVICES",
                    help="comma-separated devices whose LUT is used as it is (no measuring)")
    ap.add_argument("--start-sshd", action="store_true", help="start the localhost-ssh sshd (port 2222) and stop it after")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sshd = _sshd(args.start_sshd)
    try:
        results = [bench_device(d, args) for d in args.devices.split(",") if d]
    finally:
        if sshd is not None:
            sshd.stop()
    adapt = {}
    for src in results:
        for dst in results:
            if src is dst:
                continue
            archs = [w for w in dst["_held"] if w.source == "arch"]
            pred = load_predictor(default_predictor_dir(args.lut, src["device"]))
            adapt[f"{src['device']} -> {dst['device']}"] = adaptation_curve(
                pred, [w.graph for w in archs], np.array([w.value for w in archs]))
    for r in results:
        r.pop("_held")
        print(r["eval"]["text"])
    report = {"devices": results, "adaptation": {k: {str(kk): vv for kk, vv in v.items()} for k, v in adapt.items()}}
    (args.out / "bench-predictors.json").write_text(json.dumps(report, indent=1, default=str))
    md = markdown(results, adapt)
    (args.out / "bench-predictors.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
