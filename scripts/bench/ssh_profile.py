#!/usr/bin/env python3
"""Benchmark of the SSH profiling path on the loopback device (a private sshd on 127.0.0.1).

Reports, for the MLPerf Tiny int8 models:
- p50 latency per model and its coefficient of variation over repeated sessions (target <= 2 %),
  each session timing at least --repeats inferences and at least --min-seconds;
- host overhead per measured inference: (host wall time of a session - sum of the timed
  inferences) / inferences, i.e. transport, interpreter start, model load and warm-up spread over
  the timed inferences; and the same overhead per session, in ms;
- profiling throughput: models per minute for a fresh `profile` of all models (connect, deploy the
  runner, push each model, default 100 repeats + 10 warm-up), on one SSH connection.

    .venv/bin/python scripts/bench/ssh_profile.py [--sessions 5] [--repeats 500] [--min-seconds 0.5] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from edgekit.core.assets import assets_dir  # noqa: E402
from edgekit.core.profile import load_profile  # noqa: E402
from edgekit.core.trace import TraceStore  # noqa: E402
from edgekit.measure.collect import ModelJob, collect  # noqa: E402
from edgekit.measure.options import ProfileOptions  # noqa: E402
from edgekit.measure.runner_client import RunnerMeasurer  # noqa: E402
from edgekit.measure.stats import cv  # noqa: E402
from edgekit.targets.linux import LinuxTarget  # noqa: E402

MODELS = ("kws_ref_model_int8", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8")
CV_TARGET = 0.02


def _run(profile, jobs, options, store) -> tuple[list, float]:
    target = LinuxTarget.from_profile(profile)
    t0 = time.perf_counter()
    try:
        result = collect(jobs, RunnerMeasurer(target), profile, options, store)
    finally:
        target.close()
    return result.written, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=5, help="sessions per model for the CV (%(default)s)")
    ap.add_argument("--repeats", type=int, default=500, help="timed inferences per CV session (%(default)s)")
    ap.add_argument("--min-seconds", type=float, default=0.5,
                    help="each CV session times at least this long, past --repeats (%(default)s)")
    ap.add_argument("--cpu", type=int, default=None, help="pin the runner to this CPU")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    assets = assets_dir()
    paths = [assets / "models" / "mlperf_tiny" / f"{m}.tflite" for m in MODELS]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        print(f"bench/ssh_profile: skipped, models not found under {assets}: {', '.join(missing)}")
        return 0
    jobs = [ModelJob.from_path(p) for p in paths]
    sys.path.insert(0, str(REPO / "scripts"))
    import sshd_local

    with tempfile.TemporaryDirectory(prefix="edgekit-bench-") as tmp:
        tmp = Path(tmp)
        h = sshd_local.start_sshd(tmp / "sshd")
        try:
            prof = tmp / "loopback.toml"
            prof.write_text(h.profile_toml(python=sys.executable, workdir=str(tmp / "device")))
            profile = load_profile(str(prof))
            throughput_rows, wall_s = _run(profile, jobs, ProfileOptions(), TraceStore(tmp / "t1"))
            cv_opts = ProfileOptions(repeats=args.repeats, min_seconds=args.min_seconds, warmup=20,
                                     sessions=args.sessions, cpu=args.cpu)
            rows, cv_wall_s = _run(profile, jobs, cv_opts, TraceStore(tmp / "t2"))
        finally:
            h.stop()
    load1 = os.getloadavg()[0]
    figures: dict = {"models": {}, "loadavg_1min": load1, "cpus": os.cpu_count(),
                     "models_per_minute": len(jobs) / wall_s * 60, "throughput_wall_s": wall_s,
                     "cv_sessions": args.sessions, "cv_repeats": args.repeats, "cv_wall_s": cv_wall_s}
    for job in jobs:
        mine = [r.metrics for r in rows if r.identity["model_name"] == job.name]
        p50 = [m["latency_ms_p50"] for m in mine]
        overhead = [m["host_overhead_ms_per_inference"] for m in mine]
        figures["models"][job.name] = {
            "p50_ms_median": statistics.median(p50), "p50_ms_sessions": p50, "p50_cv": cv(p50),
            "host_overhead_ms_per_inference": statistics.mean(overhead),
            "timed_inferences_per_session": statistics.mean(m["repeats"] for m in mine),
            "host_overhead_ms_per_session": statistics.mean(m["host_overhead_ms_per_inference"] * m["repeats"]
                                                            for m in mine),
        }
    tp_overhead = statistics.mean(r.metrics["host_overhead_ms_per_inference"] for r in throughput_rows)
    figures["throughput_host_overhead_ms_per_inference"] = tp_overhead

    print(f"SSH loopback profiling benchmark ({os.cpu_count()} CPUs, load average {load1:.2f})")
    print(f"{'model':24} {'p50 ms':>9} {'CV of p50':>10} {'host ms/inf':>12} {'host ms/session':>16}")
    for name, f in figures["models"].items():
        mark = "ok" if f["p50_cv"] <= CV_TARGET else "over target"
        print(f"{name:24} {f['p50_ms_median']:9.4f} {100 * f['p50_cv']:9.2f}% {f['host_overhead_ms_per_inference']:12.3f}"
              f" {f['host_overhead_ms_per_session']:16.1f}  {mark}")
    print(f"CV over {args.sessions} sessions, each >= {args.repeats} timed inferences and >= {args.min_seconds:g} s "
          f"(target <= {100 * CV_TARGET:g} %)")
    print(f"throughput: {figures['models_per_minute']:.1f} models/minute ({len(jobs)} models, 100 repeats + 10 warm-up, "
          f"{wall_s:.2f} s incl. connect and deploy; host overhead {tp_overhead:.3f} ms per inference)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
