"""Measure with TensorFlow Lite's `benchmark_model` binary (Android, when the user supplies one)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from edgekit.core.artifact import sha256_file
from edgekit.core.errors import DeviceError, UsageError
from edgekit.measure.benchmark_model import benchmark_argv, parse_benchmark_model
from edgekit.measure.collect import Measurement, ModelJob
from edgekit.measure.energy.base import EnergyMeter
from edgekit.measure.options import ProfileOptions
from edgekit.targets.android import AndroidTarget


class BenchmarkModelMeasurer:
    def __init__(self, target: AndroidTarget, binary: Path, meter: EnergyMeter | None = None) -> None:
        if meter is not None:
            raise UsageError(f"the {meter.name} energy meter needs the edgekit runner's timed window; "
                             "benchmark_model reports none", "profile without --benchmark-model, or set [energy] meter = \"none\"")
        self.target = target
        self.binary = binary
        self.binary_sha256 = sha256_file(binary) if binary.is_file() else ""
        self._remote: str | None = None

    def config(self, options: ProfileOptions) -> dict[str, Any]:
        ident = options.identity()
        if options.cpu is not None:
            raise UsageError("--cpu is not supported with benchmark_model", "drop --cpu")
        ident.pop("seed")  # benchmark_model fills inputs its own way
        return {**ident, "tool": "benchmark_model", "binary_sha256": self.binary_sha256[:16], "energy_meter": "none"}

    def prepare(self) -> None:
        self._remote = str(self.target.deploy_binary(self.binary))

    def measure(self, job: ModelJob, options: ProfileOptions, on_progress: Callable[[int, int], None]) -> Measurement:
        assert self._remote is not None, "prepare() first"
        model = self.target.deploy_file(job.path, job.sha256)
        argv = benchmark_argv(self._remote, str(model), options.repeats, options.warmup, options.threads,
                              options.xnnpack, options.min_seconds)
        t0 = time.perf_counter()
        r = self.target.run(argv, options.timeout_s)
        wall_ms = (time.perf_counter() - t0) * 1e3
        text = r.stdout.decode(errors="replace") + "\n" + r.stderr.decode(errors="replace")
        if r.exit_code != 0:
            tail = (text.strip().splitlines() or [""])[-1]
            raise DeviceError(f"benchmark_model exited with code {r.exit_code} on {job.name}: {tail}",
                              "run it by hand on the device with the same arguments")
        res = parse_benchmark_model(text)
        metrics = {**res.metrics(), "repeats": res.count, "warmup": options.warmup, "threads": options.threads,
                   "host_overhead_ms_per_inference": (wall_ms - res.avg_us / 1e3 * res.count) / res.count}
        layers = tuple({"layer_index": op.index, "op": op.op, "latency_ms_mean": op.avg_ms, "layer_name": op.name}
                       for op in res.ops)
        on_progress(options.repeats, options.repeats)
        return Measurement(metrics=metrics, runner_version=f"benchmark_model/{self.binary_sha256[:12]}",
                           tool_versions={"benchmark_model_sha256": self.binary_sha256}, layers=layers)
