"""The host client's retry and refusal rules, against a scripted stand-in device (no QEMU)."""

from __future__ import annotations

import struct
import zlib
from collections import deque
from typing import Callable

import pytest

from edgekit.core.errors import DeviceError
from edgekit.core.transport import Capability, Transport
from edgekit.measure import mcu_frames as fr
from edgekit.measure.mcu_protocol import (BoardResetError, DeviceFaultError, McuClient, ProtocolMismatchError,
                                          ProtocolOptions)

FAST = ProtocolOptions(reply_timeout_s=0.05, retries=3, invoke_idle_timeout_s=0.5, boot_timeout_s=0.2)


def hello_payload(build_id: str = "0123456789abcdef", out_bytes: int = 4) -> bytes:
    s = lambda t: bytes([len(t)]) + t.encode()  # noqa: E731
    return (s(build_id) + s("fake-board") + s("m") + struct.pack("<IIBBHHBB", 1000, 1000, 1, 0, 64, 0, 1, 1)
            + struct.pack("<IIIII", 16, 1024, 4096, 0, 0) + struct.pack("<II", 4, out_bytes))


class FakeDevice(Transport):
    """Answers requests like the firmware; `script(frame, n)` may return a list of raw byte strings
    to send instead (n counts transmissions of that request), or None for the normal reply."""

    capabilities = frozenset({Capability.BYTES})

    def __init__(self, script: Callable[[fr.Frame, int], list[bytes] | None] | None = None) -> None:
        self.parser = fr.FrameParser()
        self.out: deque[bytes] = deque()
        self.script = script
        self.seen: dict[tuple[int, int], int] = {}
        self.executed: list[int] = []
        self.output = b"\x01\x02\x03\x04"

    def open(self) -> None: ...
    def close(self) -> None: ...
    def reset_input(self) -> None: self.out.clear()

    def read(self, n: int, timeout_s: float) -> bytes:
        return self.out.popleft() if self.out else b""

    def reply(self, f: fr.Frame, payload: bytes = b"", status: int = fr.ST_OK) -> bytes:
        return fr.encode_frame(f.cmd | fr.RESPONSE_BIT, f.seq, payload, status)

    def normal(self, f: fr.Frame) -> list[bytes]:
        self.executed.append(f.cmd)
        if f.cmd == fr.CMD_HELLO:
            return [self.reply(f, hello_payload())]
        if f.cmd == fr.CMD_INVOKE:
            res = struct.pack("<iIII", 0, 1, 0, zlib.crc32(self.output)) + struct.pack("<Q", 10) + struct.pack("<III", 10, 10, 64)
            return [self.reply(f, status=fr.ST_ACCEPTED), self.reply(f, res)]
        if f.cmd == fr.CMD_READ_OUTPUT:
            _, off, n = struct.unpack("<BxxxIH", f.payload)
            return [self.reply(f, self.output[off:off + n])]
        return [self.reply(f)]

    def write(self, data: bytes) -> None:
        for f in self.parser.feed(data):
            key = (f.cmd, f.seq)
            self.seen[key] = self.seen.get(key, 0) + 1
            scripted = self.script(f, self.seen[key]) if self.script else None
            self.out.extend(self.normal(f) if scripted is None else scripted)


def test_plain_exchange():
    dev = FakeDevice()
    c = McuClient(dev, FAST)
    assert c.hello().board == "fake-board"
    r = c.invoke(1)
    assert c.read_outputs_checked((4,), r.output_crc) == [b"\x01\x02\x03\x04"]
    assert c.stats.retransmissions == 0


def test_lost_reply_is_retransmitted():
    dev = FakeDevice(lambda f, n: [] if (f.cmd == fr.CMD_HELLO and n == 1) else None)
    c = McuClient(dev, FAST)
    c.hello()
    assert c.stats.retransmissions == 1


def test_nak_triggers_immediate_retransmission():
    dev = FakeDevice(lambda f, n: [fr.encode_frame(f.cmd | 0x80, f.seq, status=fr.ST_BAD_CRC)] if n == 1 else None)
    c = McuClient(dev, ProtocolOptions(reply_timeout_s=5.0, retries=2))
    c.hello()                                  # would take 5 s if it waited for a timeout
    assert c.stats.naks == 1 and c.stats.retransmissions == 1


def test_damaged_reply_is_never_accepted():
    reads = []

    def corrupt(f: fr.Frame, n: int) -> list[bytes] | None:
        if f.cmd != fr.CMD_READ_OUTPUT:
            return None
        reads.append(f.seq)
        if len(reads) > 1:
            return None
        return [fr.encode_frame(f.cmd | 0x80, f.seq, b"\x01\x02\x03\x05")]   # valid frame, wrong data
    c = McuClient(FakeDevice(corrupt), FAST)
    c.hello()
    r = c.invoke(1)
    assert c.read_outputs_checked((4,), r.output_crc) == [b"\x01\x02\x03\x04"]   # caught by the output CRC
    assert len(reads) == 2
    with pytest.raises(DeviceError, match="do not match the device's own CRC"):
        McuClient(FakeDevice(lambda f, n: [fr.encode_frame(f.cmd | 0x80, f.seq, b"\x00" * 4)]
                             if f.cmd == fr.CMD_READ_OUTPUT else None), FAST).read_outputs_checked((4,), r.output_crc)


def test_stale_reply_with_old_sequence_is_skipped():
    def stale(f: fr.Frame, n: int) -> list[bytes] | None:
        if f.cmd == fr.CMD_READ_MEMORY:
            return [fr.encode_frame(f.cmd | 0x80, (f.seq - 1) & 0xFF, bytes(28)),
                    fr.encode_frame(f.cmd | 0x80, f.seq, struct.pack("<7I", 1, 2, 3, 4, 5, 6, 7))]
        return None
    c = McuClient(FakeDevice(stale), FAST)
    assert c.read_memory().free_bytes == 7 and c.stats.stale_frames == 1


def test_silent_device_fails_clearly_after_bounded_retries():
    c = McuClient(FakeDevice(lambda f, n: []), FAST)
    with pytest.raises(DeviceError, match=r"HELLO: no reply .* after 4 attempts"):
        c.hello()


def test_boot_event_mid_request_is_a_reset():
    boot = fr.encode_frame(fr.EVT_BOOT, 0, b"\x02ab\x03brd")
    c = McuClient(FakeDevice(lambda f, n: [boot] if f.cmd == fr.CMD_INVOKE else None), FAST)
    with pytest.raises(BoardResetError, match="restarted"):
        c.invoke(1)


def test_fault_event_is_reported():
    fault = fr.encode_frame(fr.EVT_FAULT, 0, struct.pack("<6I", 3, 0x100, 0x200, 0, 0x40000000, 0))
    c = McuClient(FakeDevice(lambda f, n: [fault] if f.cmd == fr.CMD_INVOKE else None), FAST)
    with pytest.raises(DeviceFaultError, match="HardFault at pc=0x00000100"):
        c.invoke(1)


def test_other_protocol_version_is_refused():
    other = lambda f, n: [fr.encode_frame(f.cmd | 0x80, f.seq, b"", version=2)]  # noqa: E731
    with pytest.raises(ProtocolMismatchError, match="protocol version 2"):
        McuClient(FakeDevice(other), FAST).hello()
    refused = lambda f, n: [fr.encode_frame(f.cmd | 0x80, f.seq, status=fr.ST_BAD_VERSION)]  # noqa: E731
    with pytest.raises(ProtocolMismatchError, match="refused protocol version"):
        McuClient(FakeDevice(refused), FAST).hello()


def test_other_build_is_refused():
    with pytest.raises(ProtocolMismatchError, match="runs firmware build 0123456789abcdef"):
        McuClient(FakeDevice(), FAST).hello(expect_build_id="fedcba9876543210")


def test_progress_events_keep_a_long_invoke_alive():
    def slow(f: fr.Frame, n: int) -> list[bytes] | None:
        if f.cmd != fr.CMD_INVOKE:
            return None
        prog = [fr.encode_frame(fr.EVT_PROGRESS, 0, struct.pack("<I", k)) for k in range(1, 4)]
        res = struct.pack("<iIII", 0, 3, 0, 0) + struct.pack("<Q", 30) + struct.pack("<III", 10, 10, 64)
        return [fr.encode_frame(f.cmd | 0x80, f.seq, status=fr.ST_ACCEPTED), *prog,
                fr.encode_frame(f.cmd | 0x80, f.seq, res)]
    c = McuClient(FakeDevice(slow), FAST)
    assert c.invoke(3).repeats == 3 and c.stats.retransmissions == 0


def test_refusal_status_is_an_error_not_a_retry():
    bad = lambda f, n: [fr.encode_frame(f.cmd | 0x80, f.seq, status=fr.ST_NO_SPACE)]  # noqa: E731
    dev = FakeDevice(bad)
    with pytest.raises(DeviceError, match="inputs do not fit in free RAM"):
        McuClient(dev, FAST).invoke(1)
    assert dev.seen[(fr.CMD_INVOKE, next(iter(dev.seen))[1])] == 1
