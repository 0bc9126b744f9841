"""A board run's result: JSON keys and the trace row, for an emulated board (instructions) and a
real one (cycles + latency) — an emulated count never lands in a cycles column."""

from __future__ import annotations

import pytest

from edgekit.core.errors import UsageError
from edgekit.core.profile import load_profile
from edgekit.core.trace import TraceStore
from edgekit.measure.mcu_run import LayerFigure, McuRunResult, result_record


def result(device: str, method: str, latency_ms: float | None) -> McuRunResult:
    return McuRunResult(
        device_id=device, emulated=method == "qemu-icount", method=method, model_name="m", artifact_sha256="ab" * 32,
        build_id="0123456789abcdef", kernels="portable", inputs=10, repeats=2, count_per_inference=1000,
        count_min=990, count_max=1010, latency_ms=latency_ms, clock_hz=120_000_000,
        layers=(LayerFigure(0, "CONV_2D", 500, 700), LayerFigure(1, "RESHAPE", 0, None), LayerFigure(2, "SOFTMAX", 10, 295)),
        harness_overhead_pct=0.5, flash_bytes=40_000, ram_bytes=30_000, ram_bytes_static=14_000, stack_bytes_peak=700,
        arena_bytes=8_000, weights_bytes=30_000, bit_exact=True, outputs_checked=10, references=("tflm", "host-build"))


def test_emulated_result_is_instructions(tmp_path):
    r = result("qemu-m4", "qemu-icount", None)
    j = r.to_json()
    assert j["instructions_per_inference"] == 1000 and "cycles_per_inference" not in j
    assert [x["instructions"] for x in j["per_layer"]] == [700, None, 295]
    rec = result_record(r, load_profile("qemu-m4"), {"qemu-system-arm": "7.2"})
    store = TraceStore(tmp_path)
    store.append(rec)
    row = store.runs().iloc[0]
    assert row["method"] == "qemu-icount" and row["instructions_per_inference"] == 1000
    assert row["ram_bytes_peak"] == 14_700 and row["flash_bytes"] == 40_000 and bool(row["bit_exact"])
    assert "latency_ms_mean" not in store.runs().columns
    layers = store.layers()
    assert list(layers["op"]) == ["CONV_2D", "RESHAPE", "SOFTMAX"] and layers["instructions"].isna().tolist() == [False, True, False]


def test_real_board_result_is_cycles_and_latency():
    r = result("nucleo-l4r5zi", "dwt-cyccnt", 1000 / 120e6 * 1e3)
    j = r.to_json()
    assert j["cycles_per_inference"] == 1000 and "instructions_per_inference" not in j
    rec = result_record(r, load_profile("nucleo-l4r5zi"), {})
    assert rec.metrics["cycles_per_inference"] == 1000 and rec.metrics["latency_ms_mean"] == pytest.approx(1000 / 120e3)
    assert rec.layers[0]["cycles"] == 700 and rec.identity["emulated"] is False


def test_emulated_device_cannot_record_cycles():
    with pytest.raises(UsageError, match="cannot report dwt-cyccnt"):
        result_record(result("qemu-m4", "dwt-cyccnt", None), load_profile("qemu-m4"), {})
