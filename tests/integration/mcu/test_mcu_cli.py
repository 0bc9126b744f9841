"""`edgekit run` and `edgekit flash` from the command line: the JSON keys, the table, the trace row."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from _support import asset_model

from edgekit.core.trace import TraceStore

from .conftest import FIXTURE_LIB, REPO

pytestmark = pytest.mark.integration
HELLO = "tflm_examples/hello_world_int8.tflite"


def edgekit(*args: str, cwd=REPO, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgekit.cli.main", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})})


def test_run_json_and_trace_row(tmp_path):
    hello = asset_model(HELLO)
    traces = tmp_path / "traces"
    proc = edgekit("run", str(hello), "--device", "qemu-m4", "--per-layer", "--json", "--count", "10",
                   "--work-dir", str(tmp_path / "w"), "--traces", str(traces))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in ("device", "method", "instructions_per_inference", "per_layer", "ram_bytes", "flash_bytes",
                "stack_bytes_peak", "bit_exact", "outputs_checked", "trace_run_key"):
        assert key in out, key
    assert "cycles_per_inference" not in out and out["method"] == "qemu-icount" and out["emulated"] is True
    assert out["bit_exact"] is True and out["outputs_checked"] == 10 and out["references"] == ["tflm", "host-build"]
    assert [x["op"] for x in out["per_layer"]] == ["FULLY_CONNECTED"] * 3
    runs, layers = TraceStore(traces).runs(), TraceStore(traces).layers()
    row = runs.iloc[0]
    assert len(runs) == 1 and row["run_key"] == out["trace_run_key"] and row["method"] == "qemu-icount"
    assert row["instructions_per_inference"] == out["instructions_per_inference"] and bool(row["emulated"])
    assert "cycles_per_inference" not in runs.columns or runs["cycles_per_inference"].isna().all()
    assert list(layers["instructions"]) == [x["instructions"] for x in out["per_layer"]]


def test_run_table_on_a_library_folder(tmp_path):
    proc = edgekit("run", str(FIXTURE_LIB), "--device", "qemu-m33", "--count", "3", "--no-trace",
                   "--work-dir", str(tmp_path / "w"))
    assert proc.returncode == 0, proc.stderr
    assert "qemu-icount (emulated instructions, not cycles)" in proc.stdout
    assert "3 of 3 vs host-build" in proc.stdout


def test_flash_json(tmp_path):
    proc = edgekit("flash", str(FIXTURE_LIB), "--device", "qemu-m55", "--json", "--work-dir", str(tmp_path / "w"))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["answered"] is True and out["board"] == "mps3-an547" and len(out["build_id"]) == 16
    assert out["flash_bytes"] <= out["flash_bytes_available"] and out["ram_bytes"] <= out["ram_bytes_available"]
