"""`edgekit profile` through a real sshd: MLPerf Tiny int8 models, the trace store, traces CLI."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from edgekit.cli.main import main
from edgekit.core.artifact import sha256_file
from edgekit.core.trace import IDENTITY, TraceStore
from edgekit.measure.runner_output import RUNNER_VERSION

pytestmark = pytest.mark.integration


def _profile(capsys, *args: str) -> list[dict]:
    capsys.readouterr()
    assert main(["profile", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_profiles_mlperf_tiny_models_over_one_connection(sshd, profile_path, mlperf_models, tmp_path, capsys):
    before = sshd.connections()
    traces = tmp_path / "traces"
    rows = _profile(capsys, *map(str, mlperf_models), "--device", str(profile_path), "--traces", str(traces),
                    "--repeats", "30", "--warmup", "3", "--sessions", "2")
    assert sshd.connections() - before == 1  # one SSH connection for the whole session
    assert len(rows) == 2 * len(mlperf_models)
    by_model = {p.stem: sha256_file(p) for p in mlperf_models}
    for r in rows:
        assert r["artifact_sha256"] == by_model[r["model_name"]]
        assert (r["device_id"], r["device_kind"], r["emulated"], r["method"]) == ("loopback", "linux", False, "wallclock")
        assert r["runner_version"] == f"edgekit_runner/{RUNNER_VERSION}" and r["repeats"] == 30 and r["warmup"] == 3
        assert 0 < r["latency_ms_min"] <= r["latency_ms_p50"] <= r["latency_ms_p90"] <= r["latency_ms_p99"] <= r["latency_ms_max"]
        assert r["latency_cv"] == pytest.approx(r["latency_ms_std"] / r["latency_ms_mean"])
        assert r["rss_bytes_peak"] > r["rss_bytes_baseline"] > 0 and r.get("ram_bytes_peak") is None
        assert r["host_overhead_ms_per_inference"] > 0
        assert json.loads(r["tool_versions"])["runtime"].startswith(("ai_edge_litert", "tflite_runtime"))
        assert r.get("energy_mj") is None  # no meter on this device: missing, never 0
    assert sorted((r["model_name"], r["run_set"]) for r in rows) == sorted((m, s) for m in by_model for s in (0, 1))

    # the store holds the same rows; list / show / export read it
    df = TraceStore(traces).runs()
    assert len(df) == len(rows) and list(df.columns[: len(IDENTITY)]) == list(IDENTITY)
    assert main(["traces", "list", "--traces", str(traces), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["run_key"] for r in listed} == {r["run_key"] for r in rows}
    assert main(["traces", "show", rows[0]["run_key"][:10], "--traces", str(traces), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["run"]
    assert shown["latency_ms_p50"] == rows[0]["latency_ms_p50"]
    out_csv = tmp_path / "runs.csv"
    assert main(["traces", "export", "--csv", str(out_csv), "--traces", str(traces)]) == 0
    with open(out_csv) as f:
        exported = list(csv.DictReader(f))
    assert len(exported) == len(rows)
    assert {float(e["latency_ms_p50"]) for e in exported} == {r["latency_ms_p50"] for r in rows}

    # a rerun of the same command measures nothing and connects to nobody
    again = _profile(capsys, *map(str, mlperf_models), "--device", str(profile_path), "--traces", str(traces),
                     "--repeats", "30", "--warmup", "3", "--sessions", "2")
    assert {r["run_key"] for r in again} == {r["run_key"] for r in rows}
    assert sshd.connections() - before == 1


def test_model_path_with_spaces_and_shell_metacharacters(sshd, profile_path, mlperf_models, tmp_path, capsys):
    nasty_dir = tmp_path / "dir with space;$(touch PWNED)"
    nasty_dir.mkdir()
    model = nasty_dir / "ad01 'q\"`touch PWNED2`$HOME;|&.tflite"
    shutil.copy(mlperf_models[-1], model)
    rows = _profile(capsys, str(model), "--device", str(profile_path), "--traces", str(tmp_path / "t"),
                    "--repeats", "5", "--warmup", "1")
    assert len(rows) == 1 and rows[0]["model_name"] == model.stem
    assert rows[0]["artifact_sha256"] == sha256_file(model)
    workdir = tmp_path / "device workdir"
    pushed = [p for p in workdir.rglob("*.tflite")]
    assert [p.name for p in pushed] == [model.name]  # reached the device under its own name
    for d in (workdir, sshd.state / "device-home", Path.cwd(), tmp_path):
        assert not (d / "PWNED").exists() and not (d / "PWNED2").exists()


def test_xnnpack_and_threads_are_part_of_the_configuration(sshd, profile_path, mlperf_models, tmp_path, capsys):
    traces = str(tmp_path / "t")
    common = [str(mlperf_models[0]), "--device", str(profile_path), "--traces", traces, "--repeats", "20"]
    on = _profile(capsys, *common)
    off = _profile(capsys, *common, "--no-xnnpack", "--threads", "2")
    assert json.loads(on[0]["config"])["xnnpack"] is True
    assert (json.loads(off[0]["config"])["xnnpack"], off[0]["threads"]) == (False, 2)
    assert on[0]["run_key"] != off[0]["run_key"] and len(TraceStore(traces).runs()) == 2
    # LiteRT's reference-free builtin kernels are slower than XNNPACK on this int8 DS-CNN
    assert off[0]["latency_ms_p50"] > on[0]["latency_ms_p50"]


def test_unknown_formats_and_mcu_devices_are_refused(profile_path, tmp_path, capsys):
    net = tmp_path / "net.bin"
    net.write_bytes(b"x")
    assert main(["profile", str(net), "--device", str(profile_path)]) == 2
    assert "unknown model format" in capsys.readouterr().err
    model = tmp_path / "m.tflite"
    model.write_bytes(b"x")
    assert main(["profile", str(model), "--device", "qemu-m4"]) == 2
    assert "edgekit run" in capsys.readouterr().err


@pytest.mark.slow
def test_a_network_is_converted_on_the_way_once(sshd, profile_path, tmp_path, capsys):
    from edgekit.zoo.keras_models import fc_autoencoder

    net = tmp_path / "tiny_ae.keras"
    fc_autoencoder(input_dim=64, hidden=32, bottleneck=8).save(net)
    traces = tmp_path / "t"
    args = [str(net), "--device", str(profile_path), "--traces", str(traces), "--repeats", "10"]
    rows = _profile(capsys, *args)
    converted = sorted((traces / "converted").rglob("*_int8.tflite"))
    assert len(rows) == 1 and len(converted) == 1
    assert rows[0]["artifact_sha256"] == sha256_file(converted[0]) and rows[0]["model_name"] == "tiny_ae_int8"
    again = _profile(capsys, *args)  # the cached conversion is reused: same artifact, nothing re-measured
    assert again[0]["run_key"] == rows[0]["run_key"] and len(TraceStore(traces).runs()) == 1
