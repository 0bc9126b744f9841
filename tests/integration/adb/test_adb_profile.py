"""The ADB path end to end: AdbTransport and `edgekit profile` through the real adb client and the peer."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path, PurePosixPath

import psutil
import pytest

from edgekit.cli.main import main
from edgekit.core.artifact import sha256_file
from edgekit.core.errors import DeviceError
from edgekit.core.trace import TraceStore
from edgekit.transports.adb import AdbTransport

pytestmark = pytest.mark.integration


def test_adb_transport_exit_codes_files_and_quoting(adb_peer, tmp_path):
    t = AdbTransport(adb_peer.serial)
    with t:
        r = t.run(["sh", "-c", "echo o; echo e >&2; exit 5"], timeout_s=30)
        assert (r.exit_code, r.stdout, r.stderr) == (5, b"o\n", b"e\n")
        args = ["a b", "$(touch PWNED)", "'", '"', ";", "*"]
        r = t.run(["printf", "%s\\n", *args], timeout_s=30)
        assert r.stdout.decode().splitlines() == args
        assert not (adb_peer.sandbox / "PWNED").exists()
        chunks: list[bytes] = []
        r = t.run(["sh", "-c", "echo 1; sleep 0.2; echo 2"], timeout_s=30, on_stdout=chunks.append)
        assert b"".join(chunks) == r.stdout == b"1\n2\n" and len(chunks) >= 2
        assert t.run(["cat"], timeout_s=30, stdin=b"in").stdout == b"in"
        src = tmp_path / "m.bin"
        src.write_bytes(b"\x01" * 300_000)
        remote = PurePosixPath(adb_peer.sandbox / "wd" / "x y.bin")
        t.push(str(src), remote)
        t.pull(remote, str(tmp_path / "back"))
        assert (tmp_path / "back").read_bytes() == src.read_bytes()
        assert sorted(p.name for p in (adb_peer.sandbox / "wd").iterdir()) == ["x y.bin"]  # temp name renamed
        with pytest.raises(DeviceError, match="did not finish"):
            t.run(["sleep", "5"], timeout_s=0.5)
    with pytest.raises(DeviceError, match="not ready|failed"):
        AdbTransport("127.0.0.1:1").open()


def test_profile_over_adb(adb_peer, mlperf_models, tmp_path, capsys):
    prof = tmp_path / "phone.toml"
    workdir = adb_peer.sandbox / "edgekit wd"
    prof.write_text(adb_peer.profile_toml(workdir))
    capsys.readouterr()
    models = [mlperf_models[0], mlperf_models[-1]]
    assert main(["profile", *map(str, models), "--device", str(prof), "--traces", str(tmp_path / "t"),
                 "--repeats", "20", "--sessions", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4
    for r in rows:
        assert (r["device_id"], r["device_kind"], r["method"]) == ("phone", "android", "wallclock")
        assert r["repeats"] == 20 and 0 < r["latency_ms_p50"] <= r["latency_ms_p99"]
    assert {r["artifact_sha256"] for r in rows} == {sha256_file(m) for m in models}
    assert sorted(p.name for p in workdir.rglob("*.tflite")) == sorted(m.name for m in models)


def test_a_user_supplied_benchmark_model_binary(adb_peer, mlperf_models, tmp_path, capsys):
    """A stand-in for TFLite's benchmark_model (a script printing the tool's documented output)
    goes through the real adb push / chmod / shell path; its rows and per-layer rows are recorded."""
    newer = Path(__file__).resolve().parents[2] / "fixtures" / "benchmark_model" / "newer_op_profiling.txt"
    argv_log = tmp_path / "argv.txt"
    binary = tmp_path / "benchmark_model"
    binary.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{argv_log}'\ncat '{newer}'\n")
    prof = tmp_path / "phone.toml"
    prof.write_text(adb_peer.profile_toml(adb_peer.sandbox / "bm wd"))
    traces = tmp_path / "t"
    capsys.readouterr()
    assert main(["profile", str(mlperf_models[0]), "--device", str(prof), "--traces", str(traces),
                 "--benchmark-model", str(binary), "--repeats", "50", "--warmup", "5", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["runner_version"].startswith("benchmark_model/") and row["repeats"] == 50
    assert row["latency_ms_p50"] == pytest.approx(0.449) and row.get("latency_ms_p90") is None
    args = argv_log.read_text().splitlines()
    assert args[0].startswith("--graph=") and args[0].endswith(f"/{mlperf_models[0].name}")
    assert "--num_runs=50" in args and "--warmup_runs=5" in args
    layers = TraceStore(traces).layers()
    assert list(layers["op"]) == ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED"]
    assert list(layers["layer_index"]) == [0, 1, 10, 11]


def test_a_timed_out_command_leaves_no_process_behind(adb_peer):
    marker = f"edgekit-test-{uuid.uuid4().hex}"

    def running() -> list[psutil.Process]:
        return [p for p in psutil.process_iter(["cmdline"]) if marker in (p.info["cmdline"] or [])]

    with AdbTransport(adb_peer.serial) as t:
        with pytest.raises(DeviceError, match="did not finish within 0.5 s"):
            t.run([sys.executable, "-c", "import time; time.sleep(60)", marker], timeout_s=0.5)
        deadline = time.monotonic() + 10
        while running() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = running()
        for p in left:
            p.kill()
        assert left == []
        assert t.run(["true"], timeout_s=30).exit_code == 0  # the device is still usable
