"""Real models on the emulated boards: every MLPerf Tiny int8 model and hello_world on qemu-m4,
KWS on the M7, M33 and M55 boards; outputs byte-identical on 10 inputs to TFLite Micro and to the
same library built for the host (run_model raises VerificationError on any differing byte);
per-layer counts add up to the total; counts are identical run to run; per-layer timing costs
less than 3 % of the total."""

from __future__ import annotations

import pytest
from _support import asset_model

from edgekit.core.profile import load_profile
from edgekit.measure.mcu_inputs import make_inputs, prepare_model
from edgekit.measure.mcu_reference import host_build_outputs, interpreter_outputs
from edgekit.measure.mcu_run import McuRunOptions, build_checked, run_model
from edgekit.measure.mcu_session import SessionOptions, measure_on_board


pytestmark = pytest.mark.integration
MLPERF = ["mlperf_tiny/kws_ref_model_int8", "mlperf_tiny/vww_96_int8", "mlperf_tiny/pretrainedResnet_quant",
          "mlperf_tiny/ad01_int8", "mlperf_tiny/str_ww_ref_model", "mlperf_tiny/pretrainedResnet_large_int8",
          "tflm_examples/hello_world_int8"]


def model(rel: str):
    return asset_model(f"{rel}.tflite")


def check_result(r, inputs: int) -> None:
    assert r.bit_exact and r.outputs_checked >= inputs and r.inputs == inputs
    assert r.references[-1] == "host-build" and r.references[0] in ("tflm", "litert")
    assert r.method == "qemu-icount" and r.latency_ms is None          # emulated: instructions, not time
    assert r.count_min <= r.count_per_inference <= r.count_max
    measured = [x.count for x in r.layers if x.count is not None]
    assert measured and 0 <= r.harness_overhead_pct < 3.0
    tick = 1e9 / r.clock_hz                                              # instructions per SysTick tick
    assert abs(r.count_per_inference - sum(measured)) <= max(0.03 * r.count_per_inference, len(measured) * tick)
    assert r.flash_bytes > (r.weights_bytes or 0) and r.stack_bytes_peak > 0 and r.ram_bytes >= r.arena_bytes


@pytest.mark.parametrize("rel", MLPERF)
def test_model_on_qemu_m4(rel, mcu_cache):
    path = model(rel)
    r = run_model(path, load_profile("qemu-m4"), McuRunOptions(count=10, per_layer=True),
                  work_dir=mcu_cache / path.stem / "qemu-m4")
    check_result(r, 10)


@pytest.mark.parametrize("device", ["qemu-m7", "qemu-m33", "qemu-m55"])
def test_kws_on_other_cores(device, mcu_cache):
    path = model("mlperf_tiny/kws_ref_model_int8")
    r = run_model(path, load_profile(device), McuRunOptions(count=10, per_layer=True),
                  work_dir=mcu_cache / path.stem / device)
    check_result(r, 10)


def test_counts_repeat_exactly_and_per_layer_costs_little(mcu_cache):
    path = model("mlperf_tiny/kws_ref_model_int8")
    profile = load_profile("qemu-m4")
    work = mcu_cache / path.stem / "qemu-m4"
    prepared = prepare_model(path, work, profile)
    inputs = make_inputs(prepared, 10, seed=5)
    with_layers = build_checked(profile, prepared, work, McuRunOptions(per_layer=True))
    without = build_checked(profile, prepared, work, McuRunOptions(per_layer=False))
    a = measure_on_board(profile, with_layers, inputs, work / "s1", SessionOptions(repeats=2))
    b = measure_on_board(profile, with_layers, inputs, work / "s2", SessionOptions(repeats=2))
    c = measure_on_board(profile, without, inputs, work / "s3", SessionOptions(repeats=2))
    assert a.ticks_total == b.ticks_total and a.layer_ticks == b.layer_ticks      # deterministic
    assert a.outputs == b.outputs == c.outputs
    assert abs(sum(a.ticks_total) - sum(c.ticks_total)) <= 0.03 * sum(c.ticks_total)
    # the device outputs, compared here explicitly with both references
    name, tflm = interpreter_outputs(prepared.tflite, prepared.graph, inputs)
    host = host_build_outputs(prepared.lib_dir, prepared.name, inputs, prepared.output_bytes, work / "host-portable",
                              McuRunOptions().firmware(prepared.max_layers))
    assert name == "tflm" and a.outputs == tflm == host
