"""The hand-written fixture library (tests/fixtures/mcu_tinymlp) through the whole `run` path on
each emulated board: outputs byte-identical to the host build, layers adding up to the total,
repeats inside one INVOKE, inputs preloaded into emulator memory or sent over the UART."""

from __future__ import annotations

import pytest

from edgekit.core.profile import load_profile
from edgekit.measure.mcu_run import McuRunOptions, run_model
from edgekit.measure.mcu_session import SessionOptions

from .conftest import FIXTURE_LIB, QEMU_DEVICES

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("device", QEMU_DEVICES)
def test_fixture_on_each_emulated_board(device, mcu_cache):
    r = run_model(FIXTURE_LIB, load_profile(device), McuRunOptions(count=10, repeats=3, per_layer=True),
                  work_dir=mcu_cache / "tinymlp" / device)
    assert r.bit_exact and r.references == ("host-build",) and r.outputs_checked == 10
    assert r.inputs == 10 and r.repeats == 3 and r.method == "qemu-icount"
    # 64x64 + 64x16 int8 MACs with a plain C loop: a few instructions per MAC
    assert 5120 * 2 < r.count_per_inference < 5120 * 10
    assert [x.index for x in r.layers] == [0, 1] and all(x.count for x in r.layers)
    assert r.layers[0].count > 3 * r.layers[1].count                    # 4096 vs 1024 MACs
    assert 0 <= r.harness_overhead_pct < 3.0
    assert 0 < r.stack_bytes_peak < 2048 and r.link["retransmissions"] == 0


@pytest.mark.parametrize("bank", ["on", "off"])
def test_inputs_preloaded_or_sent_give_the_same_result(bank, mcu_cache):
    options = McuRunOptions(count=5, session=SessionOptions(bank=bank))
    r = run_model(FIXTURE_LIB, load_profile("qemu-m4"), options, work_dir=mcu_cache / "tinymlp" / "bank")
    assert r.bit_exact and r.link["inputs_preloaded"] == (bank == "on")
