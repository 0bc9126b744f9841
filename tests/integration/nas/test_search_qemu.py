"""A small real search on the accelerometer data with the emulated Cortex-M4 (qemu-m4): every
candidate is trained, converted to int8, compiled into firmware and measured in QEMU.

- the winner's measured latency (icount-derived) and RAM/flash meet the targets, and its exported
  files are the measured ones;
- a search killed (SIGKILL) in the middle and rerun ends with exactly the result of an
  uninterrupted search with the same seed (two independent runs: this is also the
  same-seed-same-result check);
- an unreachable target stops with the fastest architecture and its measured latency.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgekit.core.errors import ResourceLimitError

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[3]
TARGET_MS = 4.5
SMALL = {"device": "qemu-m4", "data": "har", "space": "mcu-ir-tiny", "budget": 3, "per_round": 2,
         "supernet_epochs": 1, "candidate_epochs": 2, "max_train_samples": 400, "population": 8,
         "generations": 3, "seed": 0, "ram_kb": 64.0, "flash_kb": 256.0}


@pytest.fixture(scope="module", autouse=True)
def _needs_tools_and_data():
    missing = [t for t in ("qemu-system-arm", "arm-none-eabi-gcc", "make") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install qemu-system-arm gcc-arm-none-eabi)")
    from edgekit.datasets.har import default_har_dir
    if not default_har_dir().is_dir():
        pytest.skip(f"HAR accelerometer data not found at {default_har_dir()} (set EDGEKIT_ASSETS)")


def _options(out: Path, **changes):
    from edgekit.nas.options import SearchOptions

    return SearchOptions(**{**SMALL, "latency_ms": TARGET_MS, "out": out, **changes})


def _argv(out: Path) -> list[str]:
    argv = ["--device", "qemu-m4", "--latency-ms", str(TARGET_MS), "--out", str(out)]
    for k, v in SMALL.items():
        if k != "device":
            argv += [f"--{k.replace('_', '-')}", str(v)]
    return argv


def _comparable(result: dict) -> dict:
    """Everything of result.json that is a result (no timings, no paths)."""
    keep = ("key", "arch", "round", "latency_ms", "instructions_per_inference", "ram_bytes", "flash_bytes",
            "arena_bytes", "int8_val_acc", "int8_test_acc", "float_val_acc", "feasible", "predicted_latency_ms",
            "supernet_val_acc")
    return {"winner": {k: result["winner"][k] for k in keep},
            "measured": [{k: m[k] for k in keep} for m in result["measured"]],
            "predictor": result["predictor"]}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    from edgekit.nas.run import run_search

    out = tmp_path_factory.mktemp("search") / "a"
    return run_search(_options(out))


def test_winner_meets_the_targets_as_measured_and_is_exported(uninterrupted):
    from edgekit.core.artifact import sha256_file
    from edgekit.core.trace import TraceStore

    res = uninterrupted.result
    w = res["winner"]
    assert res["method"] == "qemu-icount" and res["latency_column"] == "latency_ms_icount_derived"
    assert w["latency_ms"] <= TARGET_MS
    assert w["latency_ms"] == pytest.approx(w["instructions_max"] / 25_000_000 * 1e3)   # profile clock 25 MHz
    assert w["ram_bytes"] <= 64 * 1024 and w["flash_bytes"] <= 256 * 1024
    assert w["bit_exact"] is True and 0.0 <= w["int8_val_acc"] <= 1.0
    assert len(res["measured"]) == SMALL["budget"]
    files = w["files"]
    assert Path(files["firmware"]).stat().st_size > 0
    assert any(Path(files["c_library"]).glob("*.h")) and any(Path(files["c_library"]).glob("*.c"))
    # the exported .tflite is the artifact measured on the board (trace store row of the winner)
    runs = TraceStore(uninterrupted.directory / "traces").runs()
    assert set(runs["method"]) == {"qemu-icount"} and len(runs) == SMALL["budget"]
    row = runs[runs["run_key"] == w["trace_run_key"]].iloc[0]
    assert row["artifact_sha256"] == sha256_file(files["tflite"])
    assert int(row["instructions_per_inference"]) == w["instructions_per_inference"]
    for name in ("explored.csv", "pareto.csv", "pareto.png", "report.md"):
        assert (uninterrupted.directory / name).stat().st_size > 0
    header = (uninterrupted.directory / "pareto.csv").read_text().splitlines()[0]
    assert "latency_ms_icount_derived" in header and "instructions_per_inference" in header


def test_killed_search_resumes_to_the_uninterrupted_result(uninterrupted, tmp_path):
    out = tmp_path / "c"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = ("import sys, argparse\nfrom edgekit.cli.search import SearchCommand\nc = SearchCommand()\n"
            "p = argparse.ArgumentParser()\nc.add_arguments(p)\nsys.exit(c.invoke(p.parse_args(sys.argv[1:])))\n")
    proc = subprocess.Popen([sys.executable, "-c", code, *_argv(out), "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not list(out.glob("candidates/*/measured.json")):      # killed after round 0's measurement
            assert proc.poll() is None, "the search ended before it could be killed"
            assert time.monotonic() < deadline, "no measurement within 240 s"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "result.json").exists()
    from edgekit.nas.run import run_search

    resumed = run_search(_options(out))
    assert _comparable(resumed.result) == _comparable(uninterrupted.result)
    first = json.loads((uninterrupted.directory / "result.json").read_text())
    assert resumed.result["winner"]["key"] == first["winner"]["key"]


def test_search_through_ray_gives_the_uninterrupted_result(uninterrupted, tmp_path):
    """--ray: candidates trained and converted as tasks of a local Ray cluster (started and
    stopped by the search); where the jobs ran does not change the result."""
    ray = pytest.importorskip("ray", reason="Ray is the extra edgekit[scale]; `make setup` installs it")
    from edgekit.nas.run import run_search

    assert not ray.is_initialized()
    via_ray = run_search(_options(tmp_path / "r", ray=True))
    assert not ray.is_initialized()                       # the cluster it brought up is gone
    assert _comparable(via_ray.result) == _comparable(uninterrupted.result)


def test_unreachable_target_names_the_fastest_architecture(tmp_path):
    from edgekit.nas.run import run_search

    with pytest.raises(ResourceLimitError) as e:
        run_search(_options(tmp_path / "u", latency_ms=1.0))
    msg = e.value.one_line()
    assert "no architecture of the space meets the targets on qemu-m4" in msg
    assert "the fastest found" in msg and "measured latency_ms_icount_derived = " in msg
    result = json.loads((tmp_path / "u" / "result.json").read_text())
    fastest = result["measured"][0]
    assert f"{fastest['latency_ms']:.3f}" in msg and fastest["latency_ms"] > 1.0
    assert "winner" not in result and len(result["measured"]) == 1
