"""The trace store: typed rows of measurements, identity columns first, units in the column names.

Layout on disk (a directory): ``runs/part-*.parquet`` and ``layers/part-*.parquet``. Every append
writes one new part file through a temp file + rename, so a process killed mid-write leaves either
the whole part or nothing. A run's layer rows are written before its run row: a run exists only when
its run row exists; orphan layer rows (killed in between) are ignored on read and replaced on rerun.
Rows are keyed by ``run_key``; reading keeps the last row per key, so a rerun never duplicates.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from edgekit.core.errors import InputFileError, UsageError

METHODS = ("wallclock", "qemu-icount", "dwt-cyccnt", "modelled")

# identity columns, in order, and their types
IDENTITY: dict[str, type] = {
    "run_key": str,            # sha256 of (artifact, device, config, run set); the resume key
    "artifact_sha256": str,
    "model_name": str,
    "device_id": str,
    "device_kind": str,        # mcu | linux | android
    "emulated": bool,
    "method": str,             # how the figures were obtained: one of METHODS
    "config": str,             # JSON of the measurement configuration (threads, repeats, kernels ...)
    "run_set": int,            # index of the repeated session (0 for a single one)
    "runner_version": str,
    "tool_versions": str,      # JSON {tool: version}
    "timestamp_utc": str,
}

# metric columns: name -> type. Units are in the names; a name not listed here is refused.
RUN_METRICS: dict[str, type] = {
    "latency_ms_p50": float, "latency_ms_p90": float, "latency_ms_p99": float, "latency_ms_mean": float,
    "latency_ms_std": float, "latency_ms_min": float, "latency_ms_max": float, "latency_cv": float,
    "instructions_per_inference": int,   # qemu-icount only: emulated instructions, never cycles
    "cycles_per_inference": int,         # dwt-cyccnt only: cycles of a real core
    "harness_overhead_pct": float,
    "ram_bytes_peak": int,               # memory the model needs on the device (MCU: static RAM + stack peak)
    "ram_bytes_static": int, "flash_bytes": int, "arena_bytes": int,
    "stack_bytes_peak": int, "weights_bytes": int,
    "energy_mj": float, "energy_mj_per_inference": float, "power_mw_mean": float,
    "cpu_freq_hz": int, "temperature_c": float, "repeats": int, "warmup": int, "threads": int,
    "outputs_checked": int, "bit_exact": bool, "host_overhead_ms_per_inference": float,
    "energy_source": str,               # rapl | ina219-hwmon | ina219-pi | joulescope | modelled
    "cpu_governor": str, "model_load_ms": float,
    "rss_bytes_baseline": int,          # runner process RSS before the model was loaded, Linux/Android
    "rss_bytes_peak": int,              # whole runner process peak RSS (Python + runtime + model), Linux/Android
}
LAYER_METRICS: dict[str, type] = {
    "layer_index": int, "op": str, "macs": int,
    "latency_ms_mean": float, "instructions": int, "cycles": int, "live_bytes": int,
    "layer_name": str,
}
# columns renamed since a store may have been written: old name -> new name (applied on reading)
_RENAMED = {"ram_bytes_baseline": "rss_bytes_baseline"}
_METHOD_ONLY = {"instructions_per_inference": "qemu-icount", "instructions": "qemu-icount",
                "cycles_per_inference": "dwt-cyccnt", "cycles": "dwt-cyccnt"}


def run_key(artifact_sha256: str, device_id: str, config: Mapping[str, Any], run_set: int = 0) -> str:
    blob = json.dumps([artifact_sha256, device_id, dict(config), run_set], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RunRecord:
    """One measured run set; build it with ``RunRecord.make`` so types and units are checked."""

    identity: dict[str, Any]
    metrics: dict[str, Any]
    layers: tuple[dict[str, Any], ...] = ()

    @staticmethod
    def make(*, artifact_sha256: str, model_name: str, device_id: str, device_kind: str, emulated: bool,
             method: str, config: Mapping[str, Any], runner_version: str, tool_versions: Mapping[str, str],
             metrics: Mapping[str, Any], layers: Sequence[Mapping[str, Any]] = (), run_set: int = 0) -> "RunRecord":
        if method not in METHODS:
            raise UsageError(f"unknown measurement method {method!r}", f"use one of {', '.join(METHODS)}")
        if emulated and method == "dwt-cyccnt":
            raise UsageError("an emulated device cannot report dwt-cyccnt cycles", "use method qemu-icount")
        identity = {
            "run_key": run_key(artifact_sha256, device_id, config, run_set), "artifact_sha256": artifact_sha256,
            "model_name": model_name, "device_id": device_id, "device_kind": device_kind, "emulated": emulated,
            "method": method, "config": json.dumps(dict(config), sort_keys=True, default=str), "run_set": run_set,
            "runner_version": runner_version, "tool_versions": json.dumps(dict(tool_versions), sort_keys=True),
            "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        _check_row(metrics, RUN_METRICS, method, "run")
        for layer in layers:
            _check_row(layer, LAYER_METRICS, method, "layer")
        return RunRecord(identity, dict(metrics), tuple(dict(x) for x in layers))


def _check_row(row: Mapping[str, Any], schema: Mapping[str, type], method: str, what: str) -> None:
    for name, value in row.items():
        if name not in schema:
            raise UsageError(f"unknown {what} metric column {name!r}",
                             "add it with its unit to edgekit/core/trace.py or use an existing column")
        if value is None:
            continue  # not measured: stored as missing, never as 0
        want = schema[name]
        ok = isinstance(value, want) or (want is float and isinstance(value, int) and not isinstance(value, bool))
        if want is int and isinstance(value, bool):
            ok = False
        if not ok:
            raise UsageError(f"{what} metric {name!r} must be {want.__name__}, got {type(value).__name__}",
                             "convert the value before recording it")
        need = _METHOD_ONLY.get(name)
        if need and method != need:
            raise UsageError(f"{what} metric {name!r} is only valid for method {need}, not {method}",
                             "record emulated instruction counts and real cycles in their own columns")


def write_part(directory: Path, df: Any) -> Path:
    """Add ``df`` to a parquet table kept as part files in ``directory``: written beside, synced,
    then renamed into place whole, so a reader (or a killed writer) never sees half a part. Part
    names sort by time of writing."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = directory / f".{name}.tmp"
    try:
        df.to_parquet(tmp, index=False)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, directory / name)
    finally:
        if tmp.exists():
            tmp.unlink()
    return directory / name


def default_store_dir() -> Path:
    return Path(os.environ.get("EDGEKIT_TRACES", "edgekit-traces"))


class TraceStore:
    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_store_dir()

    # -- writing -------------------------------------------------------------------------------
    def append(self, record: RunRecord) -> None:
        """Atomically add one run (its layer rows first, then the run row that makes it exist)."""
        import pandas as pd

        key = record.identity["run_key"]
        if record.layers:
            layers = pd.DataFrame([{"run_key": key, **layer} for layer in record.layers])
            self._write_part("layers", layers)
        run = pd.DataFrame([{**record.identity, **record.metrics}])
        self._write_part("runs", run)

    def _write_part(self, table: str, df: Any) -> None:
        write_part(self.root / table, df)

    # -- reading -------------------------------------------------------------------------------
    def _read_table(self, table: str) -> Any:
        import pandas as pd

        parts = sorted((self.root / table).glob("part-*.parquet"))
        if not parts:
            return pd.DataFrame()
        frames = []
        for p in parts:
            try:
                frames.append(pd.read_parquet(p))
            except Exception as e:  # a part is renamed into place whole, so this means outside damage
                raise InputFileError(f"trace part {p} is unreadable ({type(e).__name__})",
                                     "move that file away; the other parts are intact") from None
        return pd.concat(frames, ignore_index=True)

    def runs(self) -> Any:
        df = self._read_table("runs")
        if df.empty:
            return df
        old = [c for c in _RENAMED if c in df.columns]
        for c in old:   # parts written before the rename: fill the new column from the old one
            new = _RENAMED[c]
            df[new] = df[c] if new not in df.columns else df[new].fillna(df[c])
        df = df.drop(columns=old).drop_duplicates("run_key", keep="last").reset_index(drop=True)
        ordered = [c for c in IDENTITY if c in df.columns] + [c for c in df.columns if c not in IDENTITY]
        return df[ordered]

    def layers(self) -> Any:
        df = self._read_table("layers")
        runs = self.runs()
        if df.empty or runs.empty:
            return df.iloc[0:0]
        df = df[df["run_key"].isin(set(runs["run_key"]))]
        # a rerun rewrites a run's layers: keep the newest part's rows for each (run_key, layer_index)
        return df.drop_duplicates(["run_key", "layer_index"], keep="last").reset_index(drop=True)

    def done_keys(self) -> set[str]:
        df = self.runs()
        return set() if df.empty else set(df["run_key"])

    def has(self, key: str) -> bool:
        return key in self.done_keys()
