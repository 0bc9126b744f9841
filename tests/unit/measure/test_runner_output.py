from __future__ import annotations

import json

import pytest

from edgekit.core.errors import DeviceError, ToolMissingError, UnsupportedModelError
from edgekit.measure.runner_output import RUNNER_VERSION, parse_runner_output, split_lines
from edgekit.measure.runner_client import doc_metrics


def _doc(**over) -> dict:
    d = {"runner": "edgekit_runner", "runner_version": RUNNER_VERSION,
         "runtime": {"name": "ai_edge_litert", "version": "2.3.0"}, "python": "3.11.7", "machine": "aarch64",
         "kernel": "6.1", "model": {"path": "/m.tflite", "bytes": 10, "sha256": "ab"},
         "config": {"repeats": 4, "warmup": 2, "threads": 1, "xnnpack": True, "seed": 0, "cpu": None},
         "latencies_ns": [2_000_000, 1_000_000, 4_000_000, 3_000_000], "window_start_ns": 100,
         "window_end_ns": 100 + 10_500_000, "load_ns": 7_000_000, "rss_bytes_baseline": 1000,
         "rss_bytes_peak": 5000, "cpu": {"before": {"governor": "performance", "freq_hz": 1_800_000_000},
                                         "after": {"governor": "performance", "freq_hz": 1_500_000_000}},
         "temperature_c": {"before": 41.0, "after": 45.5}, "energy": None}
    d.update(over)
    return d


def _out(*docs: dict, extra: str = "") -> bytes:
    lines = ["progress 2 4", "mark window-start", *(json.dumps(d) for d in docs), "mark window-end"]
    return ("\n".join(lines) + "\n" + extra).encode()


def test_parse_and_metrics_of_a_good_document():
    doc = parse_runner_output(_out(_doc()), 0)
    assert doc.latencies_ns == [2_000_000, 1_000_000, 4_000_000, 3_000_000]
    assert doc.window_s == pytest.approx(0.0105) and doc.runtime == "ai_edge_litert 2.3.0"
    m = doc_metrics(doc, host_wall_s=0.5)
    assert m["latency_ms_p50"] == 2.5 and m["repeats"] == 4 and m["warmup"] == 2
    assert (m["cpu_freq_hz"], m["cpu_governor"], m["temperature_c"]) == (1_800_000_000, "performance", 45.5)
    assert m["model_load_ms"] == 7.0 and m["rss_bytes_peak"] == 5000 and m["rss_bytes_baseline"] == 1000
    assert "ram_bytes_peak" not in m  # the runner process's peak RSS is not the model's RAM
    assert m["host_overhead_ms_per_inference"] == pytest.approx((500.0 - 10.0) / 4)
    progress, marks, other = split_lines(_out(_doc()))
    assert progress == ["progress 2 4"] and marks == ["mark window-start", "mark window-end"] and len(other) == 1


def test_unreadable_sensors_stay_missing():
    doc = parse_runner_output(_out(_doc(cpu={"before": {"governor": None, "freq_hz": None}},
                                        temperature_c={"before": None, "after": None})), 0)
    m = doc_metrics(doc, 1.0)
    assert m["cpu_freq_hz"] is None and m["cpu_governor"] is None and m["temperature_c"] is None


def test_another_runner_version_is_refused():
    with pytest.raises(DeviceError, match=f"version '0'.*needs '{RUNNER_VERSION}'"):
        parse_runner_output(_out(_doc(runner_version="0")), 0)
    with pytest.raises(DeviceError, match="version None"):
        parse_runner_output(b'{"latencies_ns": [1]}\n', 0)


def test_errors_reported_by_the_runner_become_typed_errors():
    def err(kind: str) -> bytes:
        return _out({"runner_version": RUNNER_VERSION, "error": {"type": kind, "message": "m"}})

    with pytest.raises(ToolMissingError):
        parse_runner_output(err("NoRuntime"), 3)
    with pytest.raises(UnsupportedModelError):
        parse_runner_output(err("ModelLoad"), 2)
    with pytest.raises(DeviceError, match=r"\(NoModel\): m"):
        parse_runner_output(err("NoModel"), 2)


def test_cut_or_doubled_output_is_refused():
    with pytest.raises(DeviceError, match="0 JSON documents"):
        parse_runner_output(b"progress 1 2\n", -1, b"Traceback ...\nKilled")
    with pytest.raises(DeviceError, match="2 JSON documents"):
        parse_runner_output(_out(_doc(), _doc()), 0)
    with pytest.raises(DeviceError, match="not valid JSON"):
        parse_runner_output(json.dumps(_doc()).encode()[:-20], 0)
    with pytest.raises(DeviceError, match="exited with code 9"):
        parse_runner_output(_out(_doc()), 9)
    missing = _doc()
    del missing["window_end_ns"]
    with pytest.raises(DeviceError, match="lacks 'window_end_ns'"):
        parse_runner_output(_out(missing), 0)
