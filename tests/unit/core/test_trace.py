from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from edgekit.core.errors import UsageError
from edgekit.core.trace import IDENTITY, RunRecord, TraceStore


def _record(run_set: int = 0, p50: float = 1.5, layers=()) -> RunRecord:
    return RunRecord.make(artifact_sha256="ab" * 32, model_name="kws", device_id="localhost-ssh",
                          device_kind="linux", emulated=False, method="wallclock",
                          config={"threads": 1, "repeats": 50}, runner_version="1", tool_versions={"litert": "2.3.0"},
                          metrics={"latency_ms_p50": p50, "repeats": 50, "energy_mj": None}, layers=layers, run_set=run_set)


def test_identity_columns_first_and_rerun_does_not_duplicate(tmp_path):
    store = TraceStore(tmp_path)
    store.append(_record(0, 1.0))
    store.append(_record(1, 2.0))
    store.append(_record(0, 3.0))  # rerun of run set 0 replaces it
    df = store.runs()
    assert list(df.columns[: len(IDENTITY)]) == list(IDENTITY)
    assert len(df) == 2
    assert sorted(df["latency_ms_p50"]) == [2.0, 3.0]
    assert df["energy_mj"].isna().all()  # not measured stays missing, never 0


def test_layers_belong_to_runs(tmp_path):
    store = TraceStore(tmp_path)
    layers = [{"layer_index": i, "op": "CONV_2D", "macs": 10 * i, "latency_ms_mean": 0.1 * i} for i in range(3)]
    store.append(_record(0, layers=layers))
    got = store.layers()
    assert list(got["macs"]) == [0, 10, 20]
    assert set(got["run_key"]) == store.done_keys()


def test_unknown_metric_and_method_mixups_are_refused():
    with pytest.raises(UsageError, match="unknown run metric column 'latency'"):
        RunRecord.make(artifact_sha256="a", model_name="m", device_id="d", device_kind="mcu", emulated=True,
                       method="qemu-icount", config={}, runner_version="1", tool_versions={}, metrics={"latency": 1.0})
    with pytest.raises(UsageError, match="only valid for method dwt-cyccnt"):
        RunRecord.make(artifact_sha256="a", model_name="m", device_id="d", device_kind="mcu", emulated=True,
                       method="qemu-icount", config={}, runner_version="1", tool_versions={},
                       metrics={"cycles_per_inference": 100})
    with pytest.raises(UsageError, match="emulated device cannot report dwt-cyccnt"):
        RunRecord.make(artifact_sha256="a", model_name="m", device_id="d", device_kind="mcu", emulated=True,
                       method="dwt-cyccnt", config={}, runner_version="1", tool_versions={}, metrics={})


_WRITER = r"""
import sys
from edgekit.core.trace import RunRecord, TraceStore
store = TraceStore(sys.argv[1])
i = 0
while True:
    layers = [{"layer_index": j, "op": "ADD", "macs": 0} for j in range(200)]
    store.append(RunRecord.make(artifact_sha256="cd" * 32, model_name="m", device_id="d", device_kind="linux",
                 emulated=False, method="wallclock", config={"i": i}, runner_version="1", tool_versions={},
                 metrics={"latency_ms_p50": float(i)}, layers=layers))
    i += 1
    print(i, flush=True)
"""


def test_store_survives_a_process_killed_mid_write(tmp_path):
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(5 + 7 * attempt):  # let it write some runs, then kill it at an arbitrary point
            proc.stdout.readline()
        time.sleep(0.003 * attempt)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    store = TraceStore(tmp_path)
    runs = store.runs()
    assert len(runs) >= 5 and runs["run_key"].is_unique
    layers = store.layers()
    # every run that exists has all of its layer rows
    assert (layers.groupby("run_key").size() == 200).all()
    assert set(layers["run_key"]) == set(runs["run_key"])
    leftovers = [p for p in (tmp_path / "runs").iterdir() if not p.name.startswith("part-")]
    assert all(p.name.endswith(".tmp") for p in leftovers)  # at most a temp file from the killed write


def test_a_store_written_before_a_column_rename_reads_under_the_new_name(tmp_path):
    import pandas as pd

    store = TraceStore(tmp_path)
    store.append(_record(run_set=0))
    old = store.runs().iloc[[0]].copy()
    old["run_key"] = "0" * 32
    old["ram_bytes_baseline"] = 123_456            # as the runner client wrote it before the rename
    old.to_parquet(tmp_path / "runs" / "part-00000000000000000000-old.parquet", index=False)
    runs = store.runs().set_index("run_key")
    assert "ram_bytes_baseline" not in runs.columns
    assert runs.loc["0" * 32, "rss_bytes_baseline"] == 123_456
    assert pd.isna(runs.drop(index="0" * 32)["rss_bytes_baseline"]).all()
