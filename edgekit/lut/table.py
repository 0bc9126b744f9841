"""The lookup table of one device: parquet rows keyed by canonical operator signature, with their
measured figures and provenance.

Layout: ``<root>/<device id>/rows/part-*.parquet``. Rows are appended as soon as they are
measured, one part file per append, written to a temporary name and renamed into place (a killed
build leaves whole parts only). Each row has a ``row_key`` (device, measurement configuration,
configuration, variant, operator position, run set); reading keeps the last row per key, so a
resumed build never duplicates and a rebuild skips what is already there.

Two kinds of rows: *operator rows* (``n_ops == 1``: a single-operator model measured whole on a
Linux device, or one layer of a batch firmware on a microcontroller) feed the per-kernel models
and the LUT sum; *unit rows* (``n_ops > 1``: a pair or a block measured whole) feed the fusion
analysis and the whole-model correction.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from edgekit.core.errors import InputFileError, UsageError
from edgekit.core.trace import write_part
from edgekit.lut.signatures import FEATURES

IDENTITY = ("row_key", "device_id", "device_kind", "emulated", "method", "measure_key", "measure_config",
            "config_key", "family", "config", "variant", "op_pos", "n_ops", "sig_key", "kernel_type",
            "signature", "u", "round", "source", "run_set")
METRICS = ("latency_ms_p50", "latency_ms_min", "latency_ms_mean", "latency_cv", "repeats", "instructions", "cycles")
PROVENANCE = ("artifact_sha256", "trace_run_key", "runner_version", "tool_versions", "timestamp_utc")
FEATURE_COLUMNS = tuple(f"f_{n}" for n in FEATURES)
COLUMNS = IDENTITY + FEATURE_COLUMNS + METRICS + PROVENANCE


def default_lut_root() -> Path:
    return Path(os.environ.get("EDGEKIT_LUT", "edgekit-lut"))


def measure_key(measure_config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(measure_config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def row_key(device_id: str, mkey: str, config_key: str, variant: str, op_pos: int, run_set: int) -> str:
    blob = json.dumps([device_id, mkey, config_key, variant, op_pos, run_set])
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Provenance:
    device_id: str
    device_kind: str
    emulated: bool
    method: str                 # wallclock | qemu-icount | dwt-cyccnt
    measure_config: dict[str, Any]

    @property
    def measure_key(self) -> str:
        return measure_key(self.measure_config)


def make_row(prov: Provenance, *, config_key: str, family: str, config: str, variant: str, op_pos: int, n_ops: int,
             sig_key: str, kernel_type: str, signature: str, features: Iterable[float] | None, u: Iterable[float],
             round_: int, source: str, run_set: int, metrics: dict[str, Any], artifact_sha256: str,
             trace_run_key: str | None, runner_version: str, tool_versions: dict[str, str]) -> dict[str, Any]:
    unknown = set(metrics) - set(METRICS)
    if unknown:
        raise UsageError(f"unknown LUT metric(s) {', '.join(sorted(unknown))}", "use the columns in edgekit/lut/table.py")
    if prov.method == "qemu-icount" and (metrics.get("latency_ms_p50") is not None or metrics.get("cycles") is not None):
        raise UsageError("an emulated instruction count is neither a latency nor cycles", "record it as instructions")
    row: dict[str, Any] = {
        "row_key": row_key(prov.device_id, prov.measure_key, config_key, variant, op_pos, run_set),
        "device_id": prov.device_id, "device_kind": prov.device_kind, "emulated": prov.emulated, "method": prov.method,
        "measure_key": prov.measure_key, "measure_config": json.dumps(prov.measure_config, sort_keys=True, default=str),
        "config_key": config_key, "family": family, "config": config, "variant": variant, "op_pos": op_pos,
        "n_ops": n_ops, "sig_key": sig_key, "kernel_type": kernel_type, "signature": signature,
        "u": json.dumps([round(float(x), 6) for x in u]), "round": round_, "source": source, "run_set": run_set,
    }
    feats = list(features) if features is not None else [None] * len(FEATURE_COLUMNS)
    row.update(dict(zip(FEATURE_COLUMNS, feats)))
    row.update({m: metrics.get(m) for m in METRICS})
    row.update({"artifact_sha256": artifact_sha256, "trace_run_key": trace_run_key, "runner_version": runner_version,
                "tool_versions": json.dumps(tool_versions, sort_keys=True),
                "timestamp_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return row


class LutTable:
    def __init__(self, root: str | os.PathLike[str] | None, device_id: str) -> None:
        self.root = Path(root) if root is not None else default_lut_root()
        self.device_id = device_id
        self.dir = self.root / device_id

    def append(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        import pandas as pd

        bad = [r["device_id"] for r in rows if r["device_id"] != self.device_id]
        if bad:
            raise UsageError(f"rows of device {bad[0]} appended to the LUT of {self.device_id}")
        write_part(self.dir / "rows", pd.DataFrame(rows, columns=list(COLUMNS)))

    def _parts(self) -> list[Path]:
        return sorted((self.dir / "rows").glob("part-*.parquet"))

    def _read(self, parts: list[Path]) -> Any:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not parts:
            return pd.DataFrame(columns=list(COLUMNS))
        tables = []
        for p in parts:
            try:
                tables.append(pq.read_table(p))
            except Exception as e:  # parts are renamed into place whole: this is outside damage
                raise InputFileError(f"LUT part {p} is unreadable ({type(e).__name__})",
                                     "move that file away; the other parts are intact") from None
        df = pa.concat_tables(tables, promote_options="permissive").to_pandas()
        for col in COLUMNS:   # a column added since older parts were written
            if col not in df.columns:
                df[col] = -1.0 if col == "f_inplace" else None
        return df[list(COLUMNS)].drop_duplicates("row_key", keep="last").reset_index(drop=True)

    def rows(self) -> Any:
        return self._read(self._parts())

    def compact(self, min_parts: int = 32) -> None:
        """Merge the part files into one (one part per measured model makes reading slow). The
        merged part is renamed into place before the old ones are removed: a kill in between
        leaves duplicates, which reading drops by row key."""
        parts = self._parts()
        if len(parts) < min_parts:
            return
        df = self._read(parts)
        self.append(df.to_dict(orient="records"))
        for p in parts:
            p.unlink()

    def done(self, mkey: str) -> set[tuple[str, str, int]]:
        """(config key, variant, run set) already measured with this measurement configuration."""
        df = self.rows()
        if df.empty:
            return set()
        df = df[df["measure_key"] == mkey]
        return set(zip(df["config_key"], df["variant"], df["run_set"].astype(int)))

    def value_column(self) -> str:
        df = self.rows()
        if df.empty:
            raise InputFileError(f"the LUT of {self.device_id} under {self.root} is empty",
                                 f"run `edgekit lut build --device {self.device_id}` first")
        return value_column(str(df["method"].iloc[0]))

    def summary(self) -> Any:
        """One row per operator signature: the LUT as a user reads it (`edgekit lut show/export`),
        of the latest measurement configuration."""
        df = latest(self.rows())
        if df.empty:
            return df
        col = value_column(str(df["method"].iloc[0]))
        ops = df[df["n_ops"] == 1]
        g = ops.groupby(["kernel_type", "sig_key"], sort=True)
        out = g.agg(signature=("signature", "first"), samples=(col, "size"), value_median=(col, "median"),
                    value_min=(col, "min"), value_max=(col, "max"), macs=("f_macs", "first")).reset_index()
        out = out.rename(columns={"value_median": f"{col}_median", "value_min": f"{col}_min", "value_max": f"{col}_max"})
        out.insert(0, "device_id", self.device_id)
        out["method"] = df["method"].iloc[0]
        out["emulated"] = bool(df["emulated"].iloc[0])
        return out


def latest(rows: Any) -> Any:
    """The rows of the most recently measured configuration (the board code or the runner options
    changed: older rows describe another build and stay in the table, unused)."""
    if rows.empty:
        return rows
    key = rows.sort_values("timestamp_utc")["measure_key"].iloc[-1]
    return rows[rows["measure_key"] == key]


def value_column(method: str) -> str:
    """The figure a LUT of this measurement method holds: emulated instructions, cycles of a real
    core, or wall-clock milliseconds (p50 of a session)."""
    return {"qemu-icount": "instructions", "dwt-cyccnt": "cycles"}.get(method, "latency_ms_p50")
