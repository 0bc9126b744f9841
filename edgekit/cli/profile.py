"""`edgekit profile MODEL... --device ID`: measure on a Linux (SSH) or Android (ADB) device and record
one trace row per model and session (resumable: a rerun measures only what is missing). A network
(not a .tflite) is converted to full-int8 TFLite first, once: the result is cached in the store."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from edgekit.cli.base import Command, print_json
from edgekit.core.errors import UsageError
from edgekit.core.profile import DeviceProfile, load_profile
from edgekit.core.trace import TraceStore, default_store_dir
from edgekit.measure.collect import CollectResult, Event, ModelJob, collect
from edgekit.measure.energy.factory import meter_for
from edgekit.measure.options import ProfileOptions


def _source_key(model: str, shapes: tuple[tuple[int, ...], ...]) -> str:
    """sha256 of a network's source files and the input shapes: the cache key of its conversion."""
    import hashlib

    from edgekit.core.artifact import sha256_file

    path, factory = Path(model), ""
    if ".py:" in model:
        file, _, factory = model.rpartition(":")
        path = Path(file)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    h = hashlib.sha256(repr((factory, shapes)).encode())
    for f in files:
        h.update(f"{f.relative_to(path) if path.is_dir() else f.name}:{sha256_file(f)}".encode())
    return h.hexdigest()


def as_tflite(model: str, cache_dir: Path, shapes: tuple[tuple[int, ...], ...] = ()) -> Path:
    """A .tflite is measured as is; a network is converted to full-int8 TFLite first (random
    calibration data: latency does not depend on it), once per source: the result is cached under
    cache_dir by the sources' sha256, so a rerun measures the same artifact and resumes."""
    if model.lower().endswith(".tflite"):
        return Path(model)
    from edgekit.convert.api import convert, source_format
    from edgekit.convert.options import ConvertOptions

    source_format(model)  # refuses unknown formats and missing files with a typed error
    out = cache_dir / _source_key(model, shapes)[:16]
    cached = sorted(out.glob("*_int8.tflite")) if out.is_dir() else []
    if cached:
        return cached[0]
    result = convert(ConvertOptions(model=model, output_dir=out, input_shapes=shapes))
    if result.int8_model is None:
        raise UsageError(f"{model} converted to a float model only", "profile takes full-int8 models")
    return result.int8_model.path


def parse_shape(text: str) -> tuple[int, ...]:
    from edgekit.convert.options import parse_shape as parse

    return parse(text)


def _linux(profile: DeviceProfile, args: argparse.Namespace) -> tuple[Any, Any]:
    from edgekit.measure.runner_client import RunnerMeasurer
    from edgekit.targets.linux import LinuxTarget

    if args.benchmark_model:
        raise UsageError("--benchmark-model is for Android devices", "drop it for Linux boards")
    target = LinuxTarget.from_profile(profile, args.trust_on_first_use, args.python)
    return target, RunnerMeasurer(target, meter_for(profile))


def _android(profile: DeviceProfile, args: argparse.Namespace) -> tuple[Any, Any]:
    from edgekit.measure.benchmark_client import BenchmarkModelMeasurer
    from edgekit.measure.runner_client import RunnerMeasurer
    from edgekit.targets.android import AndroidTarget

    if args.trust_on_first_use:
        raise UsageError("--trust-on-first-use is for SSH devices", "drop it for Android devices")
    target = AndroidTarget.from_profile(profile, args.python)
    if args.benchmark_model:
        return target, BenchmarkModelMeasurer(target, args.benchmark_model, meter_for(profile))
    return target, RunnerMeasurer(target, meter_for(profile))


_KINDS = {"linux": _linux, "android": _android}


class _Progress:
    """A rich progress bar on stderr: one task per (model, session), advanced by streamed progress."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        self.tasks: dict[tuple[str, int], Any] = {}
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=Console(stderr=True), transient=False)

    def __enter__(self) -> "_Progress":
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, e: Event) -> None:
        if self.bar is None:
            return
        key = (e.model, e.run_set)
        if e.kind == "skip":
            self.bar.add_task(f"{e.model} #{e.run_set} (already in the store)", total=1, completed=1)
        elif e.kind == "start":
            self.tasks[key] = self.bar.add_task(f"{e.model} #{e.run_set}", total=e.total)
        elif key in self.tasks:
            self.bar.update(self.tasks[key], completed=e.done)


def _text(v: Any) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


def _fmt(v: Any, scale: float = 1.0, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v * scale:.{digits}f}"


class ProfileCommand(Command):
    name = "profile"
    help = ("measure models (.tflite, or networks converted to int8 on the way) on a Linux (SSH) or Android (ADB) "
            "device; results go to the trace store")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        d = ProfileOptions()
        parser.add_argument("models", nargs="+", metavar="MODEL",
                            help=".tflite model(s), or networks (file.py:factory, .pt2, .onnx, .keras, .h5) "
                                 "converted to int8 on the way")
        parser.add_argument("--input-shape", dest="input_shapes", action="append", default=[], metavar="SHAPE",
                            help="input shape for converting a network, batch first, e.g. 1,3,32,32 (repeatable)")
        parser.add_argument("--device", required=True, help="device id (device_profiles/<id>.toml) or a .toml path")
        parser.add_argument("--repeats", type=int, default=d.repeats, help="timed inferences per session (%(default)s)")
        parser.add_argument("--warmup", type=int, default=d.warmup, help="untimed inferences first (%(default)s)")
        parser.add_argument("--min-seconds", type=float, default=d.min_seconds,
                            help="keep timing past --repeats until the window lasts this long (%(default)s)")
        parser.add_argument("--threads", type=int, default=d.threads, help="runtime threads (%(default)s)")
        parser.add_argument("--xnnpack", action=argparse.BooleanOptionalAction, default=d.xnnpack,
                            help="use LiteRT's XNNPACK CPU delegate (default on)")
        parser.add_argument("--sessions", type=int, default=d.sessions, help="repeated sessions, one row each")
        parser.add_argument("--seed", type=int, default=d.seed, help="input data seed (%(default)s)")
        parser.add_argument("--cpu", type=int, default=d.cpu, help="pin the runner to this CPU")
        parser.add_argument("--timeout", type=float, default=d.timeout_s, help="seconds per session (%(default)s)")
        parser.add_argument("--traces", type=Path, default=None,
                            help=f"trace store directory (default {default_store_dir()}, or $EDGEKIT_TRACES)")
        parser.add_argument("--trust-on-first-use", action="store_true",
                            help="SSH: accept an unknown host key once and record it in known_hosts")
        parser.add_argument("--python", default=None, help="interpreter on the device (default: the profile's)")
        parser.add_argument("--benchmark-model", type=Path, default=None, metavar="BIN",
                            help="Android: use this TensorFlow Lite benchmark_model binary instead of the runner")
        parser.add_argument("--profiles", type=Path, default=None, metavar="DIR", help="device profile directory")
        parser.add_argument("--json", action="store_true", help="print the rows as JSON")

    def invoke(self, args: argparse.Namespace) -> int:
        profile = load_profile(args.device, args.profiles)
        if profile.kind not in _KINDS:
            raise UsageError(f"device {profile.id} is a {profile.kind} device; `edgekit profile` measures "
                             "Linux and Android devices", "use `edgekit run` for microcontroller boards")
        options = ProfileOptions(repeats=args.repeats, warmup=args.warmup, min_seconds=args.min_seconds,
                                 threads=args.threads, xnnpack=args.xnnpack,
                                 sessions=args.sessions, seed=args.seed, cpu=args.cpu, timeout_s=args.timeout)
        store = TraceStore(args.traces)
        shapes = tuple(parse_shape(s) for s in args.input_shapes)
        jobs = [ModelJob.from_path(as_tflite(m, store.root / "converted", shapes)) for m in args.models]
        target, measurer = _KINDS[profile.kind](profile, args)
        try:
            with _Progress(enabled=not args.json) as progress:
                result = collect(jobs, measurer, profile, options, store, progress)
        finally:
            target.close()
        self._report(store, result, args.json)
        return 0

    @staticmethod
    def _report(store: TraceStore, result: CollectResult, as_json: bool) -> None:
        keys = [r.identity["run_key"] for r in result.written] + result.skipped
        df = store.runs()
        rows = df[df["run_key"].isin(keys)] if not df.empty else df
        if as_json:
            print_json([{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                        for r in rows.to_dict(orient="records")])
            return
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"{len(result.written)} measured, {len(result.skipped)} already in {store.root}")
        for col in ("model", "device", "run set", "p50 ms", "p90 ms", "p99 ms", "cv", "peak RSS MiB",
                    "host ms/inf", "energy mJ", "energy source"):
            t.add_column(col)
        for r in rows.to_dict(orient="records"):
            t.add_row(r["model_name"], r["device_id"], str(r["run_set"]), _fmt(r.get("latency_ms_p50")),
                      _fmt(r.get("latency_ms_p90")), _fmt(r.get("latency_ms_p99")), _fmt(r.get("latency_cv"), 1, 4),
                      _fmt(r.get("rss_bytes_peak"), 1 / 2**20, 1), _fmt(r.get("host_overhead_ms_per_inference")),
                      _fmt(r.get("energy_mj")), _text(r.get("energy_source")))
        Console(width=150).print(t)
