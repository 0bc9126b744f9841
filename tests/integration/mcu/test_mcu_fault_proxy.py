"""Bytes dropped, flipped and delayed between the host and QEMU's serial socket: the host recovers
(outputs and counts then equal a clean run's, byte for byte) or fails with a clear DeviceError —
it never accepts a wrong output."""

from __future__ import annotations

import pytest

from edgekit.core.errors import DeviceError
from edgekit.core.profile import load_profile
from edgekit.measure.mcu_inputs import make_inputs, prepare_model
from edgekit.measure.mcu_protocol import ProtocolOptions
from edgekit.measure.mcu_reference import host_build_outputs
from edgekit.measure.mcu_run import McuRunOptions, build_checked
from edgekit.measure.mcu_session import SessionOptions, measure_on_board

from _support import load_slack

from .conftest import FIXTURE_LIB
from .proxy import Faults, ProxiedQemu

pytestmark = pytest.mark.integration
SLACK = load_slack()   # a loaded machine must not look like a faulty link
FAST = ProtocolOptions(reply_timeout_s=0.25 * SLACK, retries=8, invoke_idle_timeout_s=3.0 * SLACK,
                       boot_timeout_s=3.0 * SLACK)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    work = tmp_path_factory.mktemp("proxy")
    profile = load_profile("qemu-m4")
    prepared = prepare_model(FIXTURE_LIB, work, profile)
    image = build_checked(profile, prepared, work, McuRunOptions(per_layer=True))
    inputs = make_inputs(prepared, 6, seed=3)
    reference = host_build_outputs(FIXTURE_LIB, "tinymlp", inputs, prepared.output_bytes, work / "host",
                                   McuRunOptions().firmware(prepared.max_layers))
    clean = measure_on_board(profile, image, inputs, work / "clean", SessionOptions(repeats=2, protocol=FAST))
    assert clean.outputs == reference and clean.link.retransmissions == 0
    return profile, image, inputs, clean, work


@pytest.mark.parametrize("faults,must_recover", [
    (Faults(drop=0.003, seed=1), True), (Faults(flip=0.003, seed=2), True), (Faults(delay=0.3, seed=3), True),
    (Faults(drop=0.002, flip=0.002, delay=0.1, seed=4), True), (Faults(drop=0.01, flip=0.01, seed=5), False),
], ids=["drop", "flip", "delay", "mixed", "heavy"])
def test_faulty_link_recovers_or_fails_clearly(setup, faults, must_recover):
    profile, image, inputs, clean, work = setup
    flasher = ProxiedQemu(profile, faults)
    n = len(inputs) if must_recover else 3
    try:
        got = measure_on_board(profile, image, inputs[:n], work / "faulty", SessionOptions(repeats=2, protocol=FAST),
                               flasher=flasher)
    except DeviceError as e:
        assert not must_recover, f"a mildly faulty link should be survived: {e.message}"
        assert e.message and "\n" not in e.message   # clear and one line
        assert sum(faults.injected.values()) > 0
        return
    assert sum(faults.injected.values()) > 0, "the proxy injected nothing: the test proves nothing"
    assert got.outputs == clean.outputs[:n]                # never a wrong output
    assert got.ticks_total == clean.ticks_total[:n]        # link faults do not disturb the counts
    if n == len(inputs):
        assert got.layer_ticks == clean.layer_ticks
    if faults.drop or faults.flip:
        assert got.link.retransmissions + got.link.crc_errors + got.link.stale_frames > 0


def test_hopeless_link_fails_clearly(setup):
    profile, image, inputs, _, work = setup
    faults = Faults(flip=0.2, seed=9, skip_first_bytes=0)
    with pytest.raises(DeviceError, match=r"no reply|damaged|do not match|did not"):
        measure_on_board(profile, image, inputs[:2], work / "hopeless",
                         SessionOptions(protocol=ProtocolOptions(reply_timeout_s=0.3 * SLACK, retries=3, boot_timeout_s=1.0 * SLACK)),
                         flasher=ProxiedQemu(profile, faults))
