"""TensorFlow Lite's `benchmark_model` tool: its command line and a parser of its text output (pure).

The format parsed is the tool's documented log output (tensorflow/lite/tools/benchmark/README.md):
a statistics line per run phase (``count=50 first=.. curr=.. min=.. max=.. avg=.. std=..``, newer
builds add ``p5=.. median=.. p95=..``), the summary ``Inference timings in us: Init: ..,
First inference: .., Warmup (avg): .., Inference (avg): ..``, memory lines and, with
--enable_op_profiling, tab-separated operator tables printed by TensorFlow's StatsCalculator. Lines
may carry a log prefix ("INFO: ", Android's "I tflite  : "). The tool prints no per-run times, so
p90/p99 stay missing (never invented); p50 is its median when the build prints one, and std, min,
max stay missing when the statistics line lacks them.

Operator tables are read by their header names, not positions: older StatsCalculators print
``[node type] [start] [first] [avg ms] [%] [cdf%] [mem KB] [times called] [Name]``, newer ones
(tsl) drop ``[start]``. Memory: "Peak memory footprint (MB): init=.. overall=.." (older) and
"Memory footprint delta from the start of the tool (MB): .." are growths of the process's peak RSS
since the tool started, not a peak; only "Overall peak memory footprint (MB) via periodic
monitoring: .." is the process's peak RSS itself.
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
_RSS_GROWTH = (
    re.compile(r"Peak memory footprint \(MB\): init=" + _NUM + r" overall=" + _NUM),
    re.compile(r"Memory footprint delta from the start of the tool \(MB\): init=" + _NUM + r" overall=" + _NUM),
)
_RSS_PEAK = re.compile(r"Overall peak memory footprint \(MB\) via periodic monitoring: " + _NUM)
_REGULAR_OPS = "Operator-wise Profiling Info for Regular Benchmark Runs"
_RUN_ORDER = "Run Order"
_NAME_INDEX = re.compile(r":(\d+)$")
_COL_TYPE, _COL_AVG_MS, _COL_NAME = "[node type]", "[avg ms]", "[name]"  # header cells, lower case
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
    std_us: float | None             # None: the statistics line did not print it
    min_us: float | None
    max_us: float | None
    median_us: float | None
    init_us: float
    first_inference_us: float
    warmup_avg_us: float
    rss_peak_mib: float | None       # process peak RSS (periodic monitoring), when printed
    rss_growth_mib: float | None     # growth of the peak RSS since the tool started (not a peak)
    ops: tuple[OpTiming, ...] = field(default_factory=tuple)

    def metrics(self) -> dict[str, Any]:
        """Trace metrics; what the tool does not print stays None (missing), never 0."""
        def ms(us: float | None) -> float | None:
            return None if us is None else us / 1e3

        return {
            "latency_ms_p50": ms(self.median_us),
            "latency_ms_p90": None, "latency_ms_p99": None,
            "latency_ms_mean": self.avg_us / 1e3, "latency_ms_std": ms(self.std_us),
            "latency_ms_min": ms(self.min_us), "latency_ms_max": ms(self.max_us),
            "latency_cv": self.std_us / self.avg_us if self.std_us is not None and self.avg_us > 0 else None,
            "rss_bytes_peak": None if self.rss_peak_mib is None else int(round(self.rss_peak_mib * _MIB)),
            "model_load_ms": self.init_us / 1e3,
        }


def benchmark_argv(binary: str, graph: str, repeats: int, warmup: int, threads: int, xnnpack: bool,
                   min_seconds: float = 0.0, op_profiling: bool = True) -> list[str]:
    return [binary, f"--graph={graph}", f"--num_runs={repeats}", f"--warmup_runs={warmup}",
            f"--num_threads={threads}", f"--use_xnnpack={'true' if xnnpack else 'false'}",
            # the tool's own defaults (1 s / 0.5 s of wall time at least) would run longer than asked
            f"--min_secs={min_seconds:g}", "--warmup_min_secs=0",
            f"--enable_op_profiling={'true' if op_profiling else 'false'}"]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("\t")]


def _columns(header: str) -> dict[str, int]:
    """Column positions by header name; the name column is last and may hold tabs."""
    cols = {c.lower(): i for i, c in enumerate(_cells(header)) if c}
    missing = [c for c in (_COL_TYPE, _COL_AVG_MS, _COL_NAME) if c not in cols]
    if missing:
        raise DeviceError(f"benchmark_model's operator table has no {', '.join(missing)} column: {header.strip()!r}",
                          "profile without op profiling, or report this benchmark_model build's output")
    return cols


def _row(cells: list[str], cols: dict[str, int], fallback_index: int) -> OpTiming:
    if len(cells) <= cols[_COL_NAME]:
        raise DeviceError(f"benchmark_model's operator row has {len(cells)} cells, its header more: "
                          f"{chr(9).join(cells).strip()!r}", "rerun; the output may have been cut")
    name = "\t".join(cells[cols[_COL_NAME]:]).strip()
    try:
        avg_ms = float(cells[cols[_COL_AVG_MS]])
    except ValueError:
        raise DeviceError(f"benchmark_model's operator row has a non-numeric [avg ms] "
                          f"{cells[cols[_COL_AVG_MS]]!r} for {name!r}", "rerun; the output may have been cut") from None
    m = _NAME_INDEX.search(name)
    return OpTiming(index=int(m.group(1)) if m else fallback_index, op=cells[cols[_COL_TYPE]], avg_ms=avg_ms, name=name)


def _ops(lines: list[str]) -> tuple[OpTiming, ...]:
    """Rows of the Run Order table of the regular (not initialization) profiling section."""
    try:
        start = next(i for i, line in enumerate(lines) if _REGULAR_OPS in line)
    except StopIteration:
        return ()
    rows: list[OpTiming] = []
    in_table = False
    cols: dict[str, int] | None = None
    for line in lines[start + 1:]:
        if "=====" in line:
            if in_table:
                break
            in_table = _RUN_ORDER in line
            continue
        if not in_table:
            continue
        if cols is None:
            if "[node type]" in line.lower():
                cols = _columns(line)
            continue
        if "\t" not in line:  # a blank (or foreign) line ends the table
            if rows:
                break
            continue
        rows.append(_row(_cells(line), cols, len(rows)))
    if in_table and cols is None:
        raise DeviceError("benchmark_model's Run Order table has no header line",
                          "profile without op profiling, or report this benchmark_model build's output")
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
    growth = peak = None
    for line in lines:
        for pattern in _RSS_GROWTH:
            m = pattern.search(line)
            if m:
                growth = float(m.group(2))
        m = _RSS_PEAK.search(line)
        if m:
            peak = float(m.group(1))
    init_us, first_us, warm_us, _ = (float(x) for x in summary.groups())
    return BenchmarkModelResult(
        count=int(stats["count"]), avg_us=stats["avg"], std_us=stats.get("std"),
        min_us=stats.get("min"), max_us=stats.get("max"), median_us=stats.get("median"),
        init_us=init_us, first_inference_us=first_us, warmup_avg_us=warm_us,
        rss_peak_mib=peak, rss_growth_mib=growth, ops=_ops(lines))
