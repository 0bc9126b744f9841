"""What the board can do to a run: crash, hang, reset in the middle, stop answering, run another
build or speak another protocol version. Each ends in recovery or in one clear error."""

from __future__ import annotations

import threading
import time
import zlib

import pytest

from edgekit.core.errors import DeviceError
from edgekit.core.profile import load_profile
from edgekit.flashers.qemu import QemuFlasher
from edgekit.measure import mcu_frames as fr
from edgekit.measure.mcu_inputs import make_inputs, prepare_model
from edgekit.measure.mcu_protocol import DeviceFaultError, McuClient, ProtocolMismatchError, ProtocolOptions
from edgekit.measure.mcu_run import McuRunOptions, build_checked
from edgekit.measure.mcu_session import SessionOptions, measure_on_board
from edgekit.transports.serial import SerialTransport

from _support import load_slack

from .conftest import FIXTURE_LIB
from .proxy import Faults, ProxiedQemu

pytestmark = pytest.mark.integration
SLACK = load_slack()   # a loaded machine must not look like a dead board
QUICK = ProtocolOptions(reply_timeout_s=0.5 * SLACK, retries=3, invoke_idle_timeout_s=2.0 * SLACK,
                        boot_timeout_s=3.0 * SLACK)
FAULT_INPUT = bytes([0x7F, 0x80, 0x7F, 0x80]) + bytes(60)   # fixture: bus fault on purpose
HANG_INPUT = bytes([0x7F, 0x80, 0x7F, 0x81]) + bytes(60)    # fixture: never returns


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    work = tmp_path_factory.mktemp("events")
    profile = load_profile("qemu-m4")
    prepared = prepare_model(FIXTURE_LIB, work, profile)
    image = build_checked(profile, prepared, work, McuRunOptions())
    return profile, prepared, image, work


def open_client(session, options=QUICK):
    link = SerialTransport(session.serial_options())
    link.open()
    client = McuClient(link, options)
    client.wait_boot()
    return link, client


def test_model_fault_is_reported_and_qemu_exits_3(board):
    profile, _, image, _ = board
    with QemuFlasher(profile).start(image.elf) as session:
        link, client = open_client(session)
        with link:
            client.hello(expect_build_id=image.build_id)
            client.write_input(0, FAULT_INPUT)
            with pytest.raises(DeviceFaultError, match=r"BusFault|HardFault"):
                client.invoke(1)
        assert session.exit_code(timeout_s=5 * SLACK) == 3


def test_hung_model_fails_after_the_idle_timeout(board):
    profile, _, image, _ = board
    with QemuFlasher(profile).start(image.elf) as session:
        link, client = open_client(session)
        with link:
            client.hello()
            client.write_input(0, HANG_INPUT)
            start = time.monotonic()
            with pytest.raises(DeviceError, match=r"INVOKE: no reply"):
                client.invoke(1)
            assert time.monotonic() - start < 20 * SLACK


def test_reset_command_and_calibration(board):
    profile, _, image, _ = board
    with QemuFlasher(profile).start(image.elf) as session:
        link, client = open_client(session)
        with link:
            hello = client.hello(expect_build_id=image.build_id)
            ticks, reads = client.calibrate(50_000)        # exactly 100,000 instructions
            assert abs(ticks * 1e9 / hello.timer_hz - 100_000) <= 1e9 / hello.timer_hz
            assert 2 <= reads <= 7                          # the phase lock found the tick edge
            client.write_input(0, bytes(range(64)))
            assert client.reset() == (image.build_id, "mps2-an386")
            # the reset wiped the staged input: the device now runs on zeros, and says so
            r = client.invoke(1)
            assert r.input_crc == zlib.crc32(bytes(64))
            with pytest.raises(ProtocolMismatchError, match="runs firmware build"):
                client.hello(expect_build_id="0" * 16)
            client.exit(0)
        assert session.exit_code(timeout_s=5 * SLACK) == 0


def test_other_protocol_version_is_answered_bad_version(board):
    profile, _, image, _ = board
    with QemuFlasher(profile).start(image.elf) as session:
        link, client = open_client(session)
        with link:
            link.write(fr.encode_frame(fr.CMD_HELLO, 7, version=2))
            parser, frames, deadline = fr.FrameParser(), [], time.monotonic() + 5
            while not frames and time.monotonic() < deadline:
                frames = parser.feed(link.read(256, 0.2))
            assert [(f.version, f.cmd, f.seq, f.status) for f in frames] == [
                (fr.PROTO_VERSION, fr.CMD_HELLO | fr.RESPONSE_BIT, 7, fr.ST_BAD_VERSION)]


def test_board_reset_mid_run_is_recovered(board):
    profile, prepared, image, work = board
    inputs = make_inputs(prepared, 4, seed=1)
    clean = measure_on_board(profile, image, inputs, work / "clean", SessionOptions(protocol=QUICK))
    done = threading.Event()

    def reset_on_third_invoke(frame, session):
        if frame.cmd == fr.CMD_INVOKE and not done.is_set():
            reset_on_third_invoke.count = getattr(reset_on_third_invoke, "count", 0) + 1
            if reset_on_third_invoke.count == 3:
                done.set()
                session.qmp("system_reset")

    got = measure_on_board(profile, image, inputs, work / "reset", SessionOptions(protocol=QUICK),
                           flasher=ProxiedQemu(profile, Faults(), reset_on_third_invoke))
    assert done.is_set() and got.recoveries >= 1
    assert got.outputs == clean.outputs and got.ticks_total == clean.ticks_total


def test_board_that_stops_answering_fails_clearly(board):
    profile, prepared, image, work = board

    def pause(frame, session):
        if frame.cmd == fr.CMD_INVOKE:
            session.qmp("stop")

    start = time.monotonic()
    with pytest.raises(DeviceError, match=r"INVOKE: no reply"):
        measure_on_board(profile, image, make_inputs(prepared, 2, seed=1), work / "stop",
                         SessionOptions(protocol=QUICK), flasher=ProxiedQemu(profile, Faults(), pause))
    assert time.monotonic() - start < 30 * SLACK


def test_board_that_exits_before_its_exit_reply_arrives_is_a_clean_end(board):
    """The board stops when it executes EXIT; its reply may never cross the link (lost, or
    damaged and the board gone when asked again). The run is still complete: the exit status
    decides, and the outputs are those of a clean run."""
    profile, prepared, image, work = board
    inputs = make_inputs(prepared, 2, seed=4)
    clean = measure_on_board(profile, image, inputs, work / "clean-exit", SessionOptions(protocol=QUICK))
    faults = Faults()

    def mute_after_exit(frame, session):
        if frame.cmd == fr.CMD_EXIT:
            faults.mute_replies = True

    got = measure_on_board(profile, image, inputs, work / "mute-exit", SessionOptions(protocol=QUICK),
                           flasher=ProxiedQemu(profile, faults, mute_after_exit))
    assert faults.mute_replies                      # the EXIT reply really was withheld
    assert got.exit_code == 0 and got.outputs == clean.outputs and got.ticks_total == clean.ticks_total
