#!/usr/bin/env python3
"""edgekit on-device runner: time a .tflite model with LiteRT and print one JSON document.

Runs on the device with only the Python standard library plus ai_edge_litert or tflite_runtime
(whichever is installed; numpy comes with either). The host copies this file to the device, runs it
and refuses a document whose runner_version differs from its own.

    python3 edgekit_runner.py --model M [--repeats N] [--warmup N] [--threads N] [--xnnpack on|off]
    python3 edgekit_runner.py --probe        # runner and runtime versions only

stdout: optional "progress K N" and "mark window-start|window-end" lines, then exactly one JSON
line (the document). Exit code 0 on success; 2 on a usage or model error, 3 when no runtime is
installed; the document then holds {"error": {...}}.
Raw facts only (every latency in ns, counters and samples as read): statistics are computed on the host.
Memory is this whole process's resident set (VmRSS before loading, VmHWM at the end): Python, numpy
and the runtime as well as the model, so it is reported as rss_bytes_*, not as the model's RAM.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import sys
import threading
import time
from typing import NoReturn

RUNNER_VERSION = "2"
MAX_TIMED = 200_000  # bound on inferences when --min-seconds extends a session (JSON size)


def _emit(doc: dict) -> None:
    sys.stdout.write(json.dumps(doc, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _fail(code: int, kind: str, message: str) -> NoReturn:
    _emit({"runner": "edgekit_runner", "runner_version": RUNNER_VERSION, "error": {"type": kind, "message": message}})
    sys.exit(code)


def load_runtime():
    """(module with Interpreter, runtime name, version) for whichever runtime is installed."""
    try:
        from ai_edge_litert import interpreter as mod
        import ai_edge_litert as pkg

        return mod, "ai_edge_litert", getattr(pkg, "__version__", "unknown")
    except ImportError:
        pass
    try:
        from tflite_runtime import interpreter as mod
        import tflite_runtime as pkg

        return mod, "tflite_runtime", getattr(pkg, "__version__", "unknown")
    except ImportError:
        return None, None, None


def read_text(path: str):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def read_int(path: str):
    text = read_text(path)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def cpu_state() -> dict:
    base = "/sys/devices/system/cpu/cpu0/cpufreq/"
    khz = read_int(base + "scaling_cur_freq")
    return {"governor": read_text(base + "scaling_governor"), "freq_hz": None if khz is None else khz * 1000}


def temperature_c():
    """First readable thermal zone (milli-degrees C in sysfs); None when there is none."""
    for i in range(16):
        milli = read_int(f"/sys/class/thermal/thermal_zone{i}/temp")
        if milli is not None:
            return milli / 1000.0
    return None


def memory_bytes() -> dict:
    """Resident and peak resident set of this process (VmRSS / VmHWM), bytes."""
    out = {"rss": None, "hwm": None}
    text = read_text("/proc/self/status") or ""
    for line in text.splitlines():
        for key, name in (("VmRSS:", "rss"), ("VmHWM:", "hwm")):
            if line.startswith(key):
                out[name] = int(line.split()[1]) * 1024
    if out["hwm"] is None:
        import resource

        out["hwm"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    return out


class PowerSampler(threading.Thread):
    """Reads a power file (e.g. an INA219's hwmon power1_input) every period; raw values + times."""

    def __init__(self, path: str, period_s: float) -> None:
        super().__init__(daemon=True)
        self.path, self.period_s = path, period_s
        self.samples: list[tuple[int, int]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            value = read_int(self.path)
            if value is not None:
                self.samples.append((time.perf_counter_ns(), value))
            self.stop_event.wait(self.period_s)


def fill_inputs(interp, seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    for d in interp.get_input_details():
        shape, dtype = tuple(int(x) for x in d["shape"]), np.dtype(d["dtype"])
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            data = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
        elif dtype.kind == "f":
            data = rng.uniform(-1.0, 1.0, size=shape).astype(dtype)
        elif dtype.kind == "b":
            data = rng.integers(0, 2, size=shape).astype(dtype)
        else:
            _fail(2, "UnsupportedInput", f"input {d['name']} has dtype {dtype}, which the runner cannot fill")
        interp.set_tensor(d["index"], data)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_args(argv):
    ap = argparse.ArgumentParser(description="edgekit on-device runner")
    ap.add_argument("--probe", action="store_true", help="print versions and exit")
    ap.add_argument("--readable", action="append", default=[], help="with --probe: report whether this file reads")
    ap.add_argument("--model")
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--min-seconds", type=float, default=0.0, help="extend the timed window to at least this long")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--xnnpack", choices=("on", "off"), default="on")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cpu", type=int, default=None, help="pin to this CPU (sched_setaffinity)")
    ap.add_argument("--progress-every", type=int, default=0)
    ap.add_argument("--marks", action="store_true", help="print window-start/end marks for host-side meters")
    ap.add_argument("--energy-counter", default=None, help="cumulative energy counter file in uJ (RAPL)")
    ap.add_argument("--energy-counter-max", default=None, help="file with the counter's wrap value in uJ")
    ap.add_argument("--power-file", default=None, help="power file sampled over the window (raw units)")
    ap.add_argument("--power-period-ms", type=float, default=5.0)
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    mod, rt_name, rt_version = load_runtime()
    base = {"runner": "edgekit_runner", "runner_version": RUNNER_VERSION,
            "runtime": {"name": rt_name, "version": rt_version},
            "python": platform.python_version(), "machine": platform.machine(), "kernel": platform.release()}
    if args.probe:
        _emit({**base, "readable": {p: read_text(p) is not None for p in args.readable}})
        return 0
    if mod is None:
        _fail(3, "NoRuntime", "neither ai_edge_litert nor tflite_runtime is importable on this device")
    if not args.model or not os.path.isfile(args.model):
        _fail(2, "NoModel", f"model file {args.model!r} does not exist on the device")
    if args.repeats < 1 or args.warmup < 0 or args.threads < 1:
        _fail(2, "BadArgs", "need repeats >= 1, warmup >= 0, threads >= 1")
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    mem0 = memory_bytes()
    t_load = time.perf_counter_ns()
    resolver = mod.OpResolverType.AUTO if args.xnnpack == "on" else mod.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    try:
        interp = mod.Interpreter(model_path=args.model, num_threads=args.threads,
                                 experimental_op_resolver_type=resolver)
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as e:
        _fail(2, "ModelLoad", f"{rt_name} cannot load the model: {str(e).strip().splitlines()[-1]}")
    load_ns = time.perf_counter_ns() - t_load
    fill_inputs(interp, args.seed)
    cpu_before, temp_before = cpu_state(), temperature_c()
    for _ in range(args.warmup):
        interp.invoke()

    sampler = PowerSampler(args.power_file, args.power_period_ms / 1000.0) if args.power_file else None
    if sampler:
        sampler.start()
        time.sleep(2 * args.power_period_ms / 1000.0)  # samples on both sides of the window
    counter_max = read_int(args.energy_counter_max) if args.energy_counter_max else None
    latencies: list[int] = []
    append = latencies.append
    min_ns = int(args.min_seconds * 1e9)
    every = args.progress_every
    invoke, clock = interp.invoke, time.perf_counter_ns
    gc.collect()
    gc.disable()  # a collection inside the loop would be timed as inference
    if args.marks:
        sys.stdout.write("mark window-start\n")
        sys.stdout.flush()
    counter0 = read_int(args.energy_counter) if args.energy_counter else None
    window0 = t1 = clock()
    i = 0
    # at least `repeats` inferences, and more until the window lasts min_seconds (bounded)
    while i < args.repeats or (t1 - window0 < min_ns and i < MAX_TIMED):
        t0 = clock()
        invoke()
        t1 = clock()
        append(t1 - t0)
        i += 1
        if every and i % every == 0 and i < args.repeats:
            sys.stdout.write(f"progress {i} {args.repeats}\n")
            sys.stdout.flush()
    window1 = clock()
    counter1 = read_int(args.energy_counter) if args.energy_counter else None
    if args.marks:
        sys.stdout.write("mark window-end\n")
        sys.stdout.flush()
    gc.enable()
    energy = None
    if args.energy_counter:
        energy = {"kind": "counter_uj", "path": args.energy_counter, "start": counter0, "end": counter1,
                  "wrap": counter_max}
    if sampler:
        time.sleep(2 * args.power_period_ms / 1000.0)
        sampler.stop_event.set()
        sampler.join()
        energy = {"kind": "power_samples", "path": args.power_file, "samples": sampler.samples}
    mem1 = memory_bytes()
    _emit({**base,
           "model": {"path": args.model, "bytes": os.path.getsize(args.model), "sha256": sha256_file(args.model)},
           "config": {"repeats": args.repeats, "min_seconds": args.min_seconds, "warmup": args.warmup, "threads": args.threads,
                      "xnnpack": args.xnnpack == "on", "seed": args.seed, "cpu": args.cpu},
           "latencies_ns": latencies, "window_start_ns": window0, "window_end_ns": window1, "load_ns": load_ns,
           "rss_bytes_baseline": mem0["rss"], "rss_bytes_peak": mem1["hwm"],
           "cpu": {"before": cpu_before, "after": cpu_state()},
           "temperature_c": {"before": temp_before, "after": temperature_c()},
           "energy": energy})
    return 0


if __name__ == "__main__":
    sys.exit(main())
