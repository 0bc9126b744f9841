"""TensorFlow Lite's `benchmark_model` tool: its command line and a parser of its text output (pure).

The format parsed is the tool's documented log output (tensorflow/lite/tools/benchmark/README.md):
a statistics line per run phase (``count=50 first=.. curr=.. min=.. max=.. avg=.. std=..``, newer
builds add ``p5=.. median=.. p95=..``), the summary ``Inference timings in us: Init: ..,
First inference: .., Warmup (avg): .., Inference (avg): ..``, a memory line (its wording changed
across releases) and, with --enable_op_profiling, tab-separated operator tables. Lines may carry a
log prefix ("INFO: ", Android's "I tflite  : "). The tool prints no per-run times, so p90/p99 stay
missing (never invented); p50 is its median when the build prints one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from edgekit.core.errors import DeviceError

_NUM = r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_STATS = re.compile(r"(?:^|\s)count=(\d+)((?:\s+\w+=" + r"[-+]?[\d.]+(?:[eE][-+]?\d+)?)*)\s*$")
_PAIR = re.compile(r"(\w+)=" + _NUM)
_SUMMARY = re.compile(r"Inference timings in us: Init: " + _NUM + r", First inference: " + _NUM +
                      r", Warmup \(avg\): " + _NUM + r", Inference \(avg\): " + _NUM)
_MEMORY = (
    re.compile(r"Peak memory footprint \(MB\): init=" + _NUM + r" overall=" + _NUM),
    re.compile(r"Memory footprint delta from the start of the tool \(MB\): init=" + _NUM + r" overall=" + _NUM),
    re.compile(r"Overall peak memory footprint \(MB\) via periodic monitoring: " + _NUM),
)
_REGULAR_OPS = "Operator-wise Profiling Info for Regular Benchmark Runs"
_RUN_ORDER = "Run Order"
_NAME_INDEX = re.compile(r":(\d+)$")
# "INFO: " (Linux builds), "I tflite  : " (Android logcat style)
_LOG_PREFIX = re.compile(r"^(?:(?:INFO|WARNING|ERROR|VERBOSE):[ ]?|[VDIWE] +[\w.-]+ *: )")
_MIB = 1024 * 1024


@dataclass(frozen=True)
class OpTiming:
    index: int
    op: str
    avg_ms: float
    name: str


@dataclass(frozen=True)
class BenchmarkModelResult:
    count: int
    avg_us: float
    std_us: float
    min_us: float
    max_us: float
    median_us: float | None
    init_us: float
    first_inference_us: float
    warmup_avg_us: float
    peak_memory_mib: float | None
    ops: tuple[OpTiming, ...] = field(default_factory=tuple)

    def metrics(self) -> dict[str, Any]:
        """Trace metrics; what the tool does not print stays None (missing), never 0."""
        return {
            "latency_ms_p50": None if self.median_us is None else self.median_us / 1e3,
            "latency_ms_p90": None, "latency_ms_p99": None,
            "latency_ms_mean": self.avg_us / 1e3, "latency_ms_std": self.std_us / 1e3,
            "latency_ms_min": self.min_us / 1e3, "latency_ms_max": self.max_us / 1e3,
            "latency_cv": self.std_us / self.avg_us if self.avg_us > 0 else None,
            "ram_bytes_peak": None if self.peak_memory_mib is None else int(round(self.peak_memory_mib * _MIB)),
            "model_load_ms": self.init_us / 1e3,
        }


def benchmark_argv(binary: str, graph: str, repeats: int, warmup: int, threads: int, xnnpack: bool,
                   min_seconds: float = 0.0, op_profiling: bool = True) -> list[str]:
    return [binary, f"--graph={graph}", f"--num_runs={repeats}", f"--warmup_runs={warmup}",
            f"--num_threads={threads}", f"--use_xnnpack={'true' if xnnpack else 'false'}",
            # the tool's own defaults (1 s / 0.5 s of wall time at least) would run longer than asked
            f"--min_secs={min_seconds:g}", "--warmup_min_secs=0",
            f"--enable_op_profiling={'true' if op_profiling else 'false'}"]


def _ops(lines: list[str]) -> tuple[OpTiming, ...]:
    """Rows of the Run Order table of the regular (not initialization) profiling section."""
    try:
        start = next(i for i, line in enumerate(lines) if _REGULAR_OPS in line)
    except StopIteration:
        return ()
    rows: list[OpTiming] = []
    in_table = False
    for line in lines[start + 1:]:
        if "=====" in line:
            if in_table:
                break
            in_table = _RUN_ORDER in line
            continue
        if not in_table or "[node type]" in line:
            continue
        cells = [c.strip() for c in line.split("\t") if c.strip()]
        if len(cells) < 4:
            if rows:
                break
            continue
        name = cells[-1]
        m = _NAME_INDEX.search(name)
        rows.append(OpTiming(index=int(m.group(1)) if m else len(rows), op=cells[0], avg_ms=float(cells[3]), name=name))
    return tuple(rows)


def parse_benchmark_model(text: str) -> BenchmarkModelResult:
    lines = [_LOG_PREFIX.sub("", line, count=1) for line in text.splitlines()]
    summary_at, summary = None, None
    for i, line in enumerate(lines):
        m = _SUMMARY.search(line)
        if m:
            summary_at, summary = i, m
    if summary is None or summary_at is None:
        raise DeviceError("benchmark_model printed no 'Inference timings in us' summary",
                          "run the binary by hand on the device; it may have failed to load the model")
    stats: dict[str, float] | None = None
    for line in lines[:summary_at]:
        if "Timings (microseconds)" in line:
            continue  # the op profiler's own summary, not the benchmark's
        m = _STATS.search(line)
        if m:
            stats = {k: float(v) for k, v in _PAIR.findall(line)}
    if stats is None or "avg" not in stats:
        raise DeviceError("benchmark_model printed no statistics line (count=.. avg=.. std=..)",
                          "use a benchmark_model build from TensorFlow 2.x")
    memory = None
    for line in lines:
        for pattern in _MEMORY:
            m = pattern.search(line)
            if m:
                memory = float(m.groups()[-1])
    init_us, first_us, warm_us, _ = (float(x) for x in summary.groups())
    return BenchmarkModelResult(
        count=int(stats["count"]), avg_us=stats["avg"], std_us=stats.get("std", 0.0),
        min_us=stats.get("min", stats["avg"]), max_us=stats.get("max", stats["avg"]),
        median_us=stats.get("median"), init_us=init_us, first_inference_us=first_us, warmup_avg_us=warm_us,
        peak_memory_mib=memory, ops=_ops(lines))
