"""Measure with tools/edgekit_runner.py on a Linux or Android target (the host side of the runner)."""

from __future__ import annotations

import time
from typing import Any, Callable

from edgekit.core.errors import DeviceError, ToolMissingError
from edgekit.core.version import edgekit_version
from edgekit.measure.collect import Measurement, ModelJob
from edgekit.measure.energy.base import EnergyMeter, Window
from edgekit.measure.options import ProfileOptions
from edgekit.measure.runner_output import RUNNER_VERSION, RunnerDoc, parse_runner_output
from edgekit.measure.stats import latency_stats_ms
from edgekit.targets.linux import PosixTarget, local_runner_version

_PROBE_TIMEOUT_S = 120.0


class _LineSplitter:
    """Feeds complete stdout lines to a callback as chunks stream in."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self._buf = b""
        self._on_line = on_line

    def __call__(self, chunk: bytes) -> None:
        self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        for line in lines:
            self._on_line(line.decode("utf-8", errors="replace").strip())


def runner_args(remote_model: str, options: ProfileOptions, progress_every: int) -> list[str]:
    args = ["--model", remote_model, "--repeats", str(options.repeats), "--min-seconds", repr(options.min_seconds),
            "--warmup", str(options.warmup),
            "--threads", str(options.threads), "--xnnpack", "on" if options.xnnpack else "off",
            "--seed", str(options.seed), "--progress-every", str(progress_every)]
    if options.cpu is not None:
        args += ["--cpu", str(options.cpu)]
    return args


def doc_metrics(doc: RunnerDoc, host_wall_s: float) -> dict[str, Any]:
    """Trace metrics of one runner document (pure, apart from the host wall time passed in)."""
    lat = doc.latencies_ns
    raw = doc.raw
    cfg = raw["config"]
    cpu = (raw.get("cpu") or {}).get("before") or {}
    temps = [t for t in (raw.get("temperature_c") or {}).values() if t is not None]
    timed_ms = sum(lat) / 1e6
    return {
        **latency_stats_ms(lat),
        "repeats": len(lat), "warmup": int(cfg["warmup"]), "threads": int(cfg["threads"]),
        # the runner's whole process (Python, numpy, runtime, model): not the model's RAM
        "rss_bytes_peak": raw.get("rss_bytes_peak"), "rss_bytes_baseline": raw.get("rss_bytes_baseline"),
        "cpu_freq_hz": cpu.get("freq_hz"), "cpu_governor": cpu.get("governor"),
        "temperature_c": max(temps) if temps else None,
        "model_load_ms": raw["load_ns"] / 1e6 if raw.get("load_ns") is not None else None,
        # everything the host waited for that was not a timed inference (transport, interpreter
        # start, model load, warm-up), spread over the timed inferences
        "host_overhead_ms_per_inference": (host_wall_s * 1e3 - timed_ms) / len(lat),
    }


class RunnerMeasurer:
    """One target session: the runner is deployed and probed once, each model pushed once."""

    def __init__(self, target: PosixTarget, meter: EnergyMeter | None = None) -> None:
        self.target = target
        self.meter = meter
        self.probe: RunnerDoc | None = None

    def config(self, options: ProfileOptions) -> dict[str, Any]:
        return {**options.identity(), "tool": "edgekit_runner", "runner_version": RUNNER_VERSION,
                "energy_meter": self.meter.name if self.meter else "none"}

    def prepare(self) -> None:
        local = local_runner_version()
        if local != RUNNER_VERSION:
            raise ToolMissingError(f"tools/edgekit_runner.py is version {local!r} but this edgekit needs {RUNNER_VERSION!r}",
                                   "use the tools/ folder of the same checkout")
        remote = self.target.deploy_runner()
        files = self.meter.device_files() if self.meter else []
        args = ["--probe", *(a for f in files for a in ("--readable", f))]
        r = self.target.run(self.target.python_argv(remote, args), timeout_s=_PROBE_TIMEOUT_S)
        self.probe = parse_runner_output(r.stdout, r.exit_code, r.stderr)
        unreadable = [f for f in files if not (self.probe.raw.get("readable") or {}).get(f)]
        if unreadable:
            raise DeviceError(f"{self.target.profile.id}: the {self.meter.name} energy meter's "
                              f"{', '.join(unreadable)} cannot be read on the device",
                              "check the [energy] section (and permissions), or set meter = \"none\"")
        if self.probe.raw.get("runtime", {}).get("name") is None:
            raise ToolMissingError(f"{self.target.profile.id}: neither ai_edge_litert nor tflite_runtime is installed "
                                   f"for {self.target.python}",
                                   "install one on the device or point [transport] python at an interpreter that has it")

    def measure(self, job: ModelJob, options: ProfileOptions, on_progress: Callable[[int, int], None]) -> Measurement:
        assert self.probe is not None, "prepare() first"
        runner = self.target.deploy_runner()
        model = self.target.deploy_file(job.path, job.sha256)
        every = max(1, options.repeats // 50)
        args = runner_args(str(model), options, every)
        meter = self.meter
        if meter is not None:
            args += meter.runner_args()
            if meter.wants_marks():
                args.append("--marks")

        def on_line(line: str) -> None:
            if line.startswith("progress "):
                k, n = line.split()[1:3]
                on_progress(int(k), int(n))
            elif line.startswith("mark ") and meter is not None:
                meter.mark(line.split()[1])

        if meter is not None:
            meter.start()
        t0 = time.perf_counter()
        try:
            r = self.target.run(self.target.python_argv(runner, args), options.timeout_s, _LineSplitter(on_line))
        finally:
            if meter is not None:
                meter.stop()
        host_wall_s = time.perf_counter() - t0
        doc = parse_runner_output(r.stdout, r.exit_code, r.stderr)
        if doc.raw["model"].get("sha256") != job.sha256:
            raise DeviceError(f"the model on the device ({model}) is not the file pushed (sha256 differs)",
                              "something else writes to the work directory; rerun")
        metrics = doc_metrics(doc, host_wall_s)
        if meter is not None:
            window = Window(duration_s=doc.window_s, inferences=len(doc.latencies_ns),
                            start_ns=doc.raw["window_start_ns"], end_ns=doc.raw["window_end_ns"],
                            device_energy=doc.raw.get("energy"))
            metrics.update(meter.read(window).metrics(len(doc.latencies_ns)))
        raw = doc.raw
        tools = {"edgekit": edgekit_version(), "runtime": doc.runtime, "python": str(raw.get("python")),
                 "machine": str(raw.get("machine")), "kernel": str(raw.get("kernel"))}
        on_progress(options.repeats, options.repeats)
        return Measurement(metrics=metrics, runner_version=f"edgekit_runner/{RUNNER_VERSION}", tool_versions=tools)
