"""LUT, predictor and exact memory on the emulated Cortex-M4 (QEMU, -icount: deterministic
emulated instruction counts, never called cycles)."""

from __future__ import annotations

import json

import pytest

from edgekit.core.profile import load_profile
from edgekit.lut.table import LutTable

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAMILIES = "conv,conv1x1,dwconv,pad,add,mean,fc,reshape"


def test_lut_build_train_eval_on_qemu(edgekit_cli, qemu_tools, tmp_path):
    lut = tmp_path / "lut"
    code, out = edgekit_cli("lut", "build", "--device", "qemu-m4", "--lut", lut, "--families", FAMILIES,
                            "--start", "40", "--arch-archs", "3", "--no-zoo", "--rounds", "0", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["emulated"] is True and report["method"] == "qemu-icount"
    rows = LutTable(lut, "qemu-m4").rows()
    assert set(rows["method"]) == {"qemu-icount"} and rows["emulated"].all()
    assert rows["latency_ms_p50"].isna().all()                  # instructions, never a latency
    assert (rows["op_pos"] >= 0).all() and (rows["n_ops"] == 1).all()   # one row per layer of a batch firmware
    work = rows[rows["kernel_type"] != "reshape"]
    assert (work["instructions"] > 0).all()
    assert (rows[rows["kernel_type"] == "reshape"]["instructions"] == 0).all()   # a view runs no code
    assert rows["trace_run_key"].nunique() < len(rows) / 3       # many kernels per firmware
    # whole architectures timed layer by layer, with the code generator's in-place decision in
    # every signature (it changes the kernel path, hence the count)
    assert set(rows["family"]) >= {"arch"} and set(rows["f_inplace"]) <= {0.0, 1.0}
    assert rows["signature"].map(lambda t: "inplace" in json.loads(t)).all()
    assert json.loads(rows["measure_config"].iloc[0])["board_code"]

    code, out = edgekit_cli("predictor", "train", "--device", "qemu-m4", "--lut", lut, "--archs", "4", "--json")
    assert code == 0
    meta = json.loads(out)
    assert meta["figure"] == "instructions" and meta["overhead"]["value"] == 0.0
    code, out = edgekit_cli("predictor", "eval", "--device", "qemu-m4", "--lut", lut, "--archs", "4",
                            "--converter", "0", "--no-zoo", "--out", tmp_path / "eval", "--json")
    assert code == 0
    t = json.loads(out)["table"]["all"]
    # what a 40-configuration LUT and 4 training models reach on deterministic counts
    assert t["gbm_corrected"]["mape_pct"] < 25.0


def test_memory_is_exact_from_the_codegen_plan(qemu_tools, tmp_path):
    from edgekit.measure.mcu_run import McuRunOptions, run_model
    from edgekit.predict.archbuild import arch_tflite
    from edgekit.lut.archspace import McuSpace
    from edgekit.predict.memory import mcu_memory
    from edgekit.tflite.reader import read_tflite

    profile = load_profile("qemu-m4")
    spec = McuSpace.sensor().decode([1, 0, 1, 0, 1, 1, 0, 1, 2, 2, 1, 0, 0, 0, 2, 0, 1])
    path = arch_tflite(spec, tmp_path)
    predicted = mcu_memory(read_tflite(path), profile, tmp_path / "build")
    measured = run_model(path, profile, McuRunOptions(count=1), work_dir=tmp_path / "run")
    assert predicted["arena_bytes"] == measured.arena_bytes           # what the firmware reports
    assert predicted["flash_bytes"] == measured.flash_bytes
    assert predicted["ram_bytes"] == measured.ram_bytes
    assert predicted["weights_bytes_linked"] == measured.weights_bytes
    assert predicted["weights_bytes"] <= measured.weights_bytes      # the plan's constants, before alignment
