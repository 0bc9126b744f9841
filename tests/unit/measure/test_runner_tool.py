"""tools/edgekit_runner.py run in-process on real models (it is plain Python: no device needed)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from edgekit.core.artifact import sha256_file
from edgekit.measure.energy.base import Window
from edgekit.measure.energy.ina219 import Ina219HwmonMeter
from edgekit.measure.energy.rapl import RaplMeter
from edgekit.measure.runner_output import RUNNER_VERSION, parse_runner_output
from edgekit.targets.linux import RUNNER_SOURCE, local_runner_version

REPO = Path(__file__).resolve().parents[3]


def _root_conftest():
    spec = importlib.util.spec_from_file_location("edgekit_tests_root_conftest_m", REPO / "tests" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def runner():
    spec = importlib.util.spec_from_file_location("edgekit_runner_under_test", RUNNER_SOURCE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def kws():
    p = _root_conftest().ASSETS / "models" / "mlperf_tiny" / "kws_ref_model_int8.tflite"
    if not p.is_file():
        pytest.skip(f"{p} not found (shared assets absent)")
    return p


def _run(runner, capsys, *args: str):
    capsys.readouterr()
    code = runner.main(list(args))
    out = capsys.readouterr().out.encode()
    return parse_runner_output(out, code), out


def test_versions_agree(runner):
    assert runner.RUNNER_VERSION == RUNNER_VERSION == local_runner_version()


def test_timed_run_document(runner, kws, capsys):
    doc, out = _run(runner, capsys, "--model", str(kws), "--repeats", "25", "--warmup", "2", "--progress-every", "10",
                    "--marks", "--xnnpack", "off")
    raw = doc.raw
    assert len(raw["latencies_ns"]) == 25 and all(x > 0 for x in raw["latencies_ns"])
    assert raw["window_end_ns"] - raw["window_start_ns"] >= sum(raw["latencies_ns"])
    assert raw["model"] == {"path": str(kws), "bytes": kws.stat().st_size, "sha256": sha256_file(kws)}
    assert raw["config"] == {"repeats": 25, "min_seconds": 0.0, "warmup": 2, "threads": 1, "xnnpack": False,
                             "seed": 0, "cpu": None}
    assert raw["runtime"]["name"] == "ai_edge_litert" and raw["rss_bytes_peak"] >= raw["rss_bytes_baseline"] > 0
    lines = out.decode().splitlines()
    assert lines[:4] == ["mark window-start", "progress 10 25", "progress 20 25", "mark window-end"]
    assert len(lines) == 5 and lines[4].startswith("{")


def test_usage_errors_are_reported_as_documents(runner, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        runner.main(["--model", str(tmp_path / "missing.tflite")])
    assert e.value.code == 2
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "NoModel"
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a flatbuffer")
    with pytest.raises(SystemExit):
        runner.main(["--model", str(bad)])
    assert json.loads(capsys.readouterr().out)["error"]["type"] == "ModelLoad"


def test_rapl_counter_is_read_at_the_window_edges(runner, kws, capsys, monkeypatch, tmp_path):
    counter, wrap = str(tmp_path / "energy_uj"), str(tmp_path / "max_energy_range_uj")
    reads = iter([1_000_000 - 300, 500])  # the counter wraps inside the window
    real = runner.read_int
    monkeypatch.setattr(runner, "read_int", lambda p: next(reads) if p == counter else 1_000_000 if p == wrap else real(p))
    doc, _ = _run(runner, capsys, "--model", str(kws), "--repeats", "5", "--energy-counter", counter,
                  "--energy-counter-max", wrap)
    assert doc.raw["energy"] == {"kind": "counter_uj", "path": counter, "start": 999_700, "end": 500, "wrap": 1_000_000}
    w = Window(duration_s=doc.window_s, inferences=5, device_energy=doc.raw["energy"])
    reading = RaplMeter(str(tmp_path)).read(w)
    assert reading.energy_mj == pytest.approx(0.8)  # (1_000_000 - 999_700 + 500) uJ
    assert reading.metrics(5)["energy_mj_per_inference"] == pytest.approx(0.16)


def test_hwmon_power_samples_cover_the_window(runner, kws, capsys, tmp_path):
    power = tmp_path / "power1_input"
    power.write_text("2500000\n")  # 2.5 W, constant, in uW as hwmon reports it
    doc, _ = _run(runner, capsys, "--model", str(kws), "--repeats", "200", "--power-file", str(power),
                  "--power-period-ms", "1")
    raw = doc.raw
    times = [t for t, _ in raw["energy"]["samples"]]
    assert times[0] <= raw["window_start_ns"] and times[-1] >= raw["window_end_ns"]
    w = Window(duration_s=doc.window_s, inferences=200, start_ns=raw["window_start_ns"], end_ns=raw["window_end_ns"],
               device_energy=raw["energy"])
    reading = Ina219HwmonMeter(str(tmp_path)).read(w)
    assert reading.energy_mj == pytest.approx(2500.0 * doc.window_s)  # mW x s
    assert reading.power_mw_mean == pytest.approx(2500.0) and reading.source == "ina219-hwmon"


def test_min_seconds_extends_the_window_past_repeats(runner, kws, capsys):
    doc, _ = _run(runner, capsys, "--model", str(kws), "--repeats", "5", "--min-seconds", "0.05")
    assert len(doc.latencies_ns) > 5 and doc.window_s >= 0.05
    assert doc.raw["config"]["min_seconds"] == 0.05


def test_probe_reports_versions_and_readable_files(runner, capsys, tmp_path):
    present = tmp_path / "energy_uj"
    present.write_text("123\n")
    doc, _ = _run(runner, capsys, "--probe", "--readable", str(present), "--readable", str(tmp_path / "absent"))
    assert doc.raw["readable"] == {str(present): True, str(tmp_path / "absent"): False}
    assert doc.raw["runtime"]["name"] == "ai_edge_litert" and "latencies_ns" not in doc.raw
