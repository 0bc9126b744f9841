"""Cut the SSH connection mid-profile (kill sshd and its sessions), restart it, rerun: the store
ends with every wanted row exactly once and nothing measured twice."""

from __future__ import annotations

import sys
import threading
import time

import pandas as pd
import pytest

from edgekit.core.errors import DeviceError
from edgekit.core.profile import load_profile
from edgekit.core.trace import TraceStore
from edgekit.measure.collect import ModelJob, collect
from edgekit.measure.options import ProfileOptions
from edgekit.measure.runner_client import RunnerMeasurer
from edgekit.targets.linux import LinuxTarget

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _raw_run_rows(root) -> pd.DataFrame:
    parts = sorted((root / "runs").glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def test_cut_connection_then_resume(tmp_path, mlperf_models):
    sshd_local = sys.modules["sshd_local"]  # scripts/sshd_local.py, loaded by this folder's conftest
    state = tmp_path / "sshd"
    h = sshd_local.start_sshd(state)
    stop = threading.Event()
    cut: list[float] = []
    try:
        prof = tmp_path / "p.toml"
        prof.write_text(h.profile_toml(python=sys.executable, workdir=str(tmp_path / "wd")))
        profile = load_profile(str(prof))
        store = TraceStore(tmp_path / "traces")
        jobs = [ModelJob.from_path(p) for p in mlperf_models[:2]]
        options = ProfileOptions(repeats=400, warmup=2, sessions=3, timeout_s=60)
        wanted = len(jobs) * options.sessions

        def cut_after_two_rows() -> None:
            deadline = time.monotonic() + 120
            while len(list((store.root / "runs").glob("part-*"))) < 2:
                if stop.wait(0.01) or time.monotonic() > deadline:
                    return  # the test gave up (or failed): never stop sshd behind its back, never hang
            time.sleep(0.05)  # into the third session's run
            h.stop()
            cut.append(time.monotonic())

        killer = threading.Thread(target=cut_after_two_rows, daemon=True)
        killer.start()
        target = LinuxTarget.from_profile(profile)
        try:
            with pytest.raises(DeviceError, match="lost|failed|not finish"):
                collect(jobs, RunnerMeasurer(target), profile, options, store)
        finally:
            target.close()
            stop.set()
            killer.join(timeout=30)
        assert not killer.is_alive() and cut, "the connection was never cut"
        first = store.runs()
        assert 2 <= len(first) < wanted
    finally:
        stop.set()
        h.stop()  # idempotent: the sshd and every session it forked, by process id

    h2 = sshd_local.start_sshd(state, port=h.port)  # same host key, same port: the device is back
    try:
        target = LinuxTarget.from_profile(profile)
        try:
            result = collect(jobs, RunnerMeasurer(target), profile, options, store)
        finally:
            target.close()
    finally:
        h2.stop()
    assert len(result.skipped) == len(first) and len(result.written) == wanted - len(first)
    runs = store.runs()
    assert len(runs) == wanted
    assert sorted(zip(runs["model_name"], runs["run_set"])) == sorted((j.name, s) for j in jobs for s in range(3))
    raw = _raw_run_rows(store.root)
    assert len(raw) == wanted and raw["run_key"].is_unique  # nothing was measured twice
    assert set(first["run_key"]) <= set(runs["run_key"])
