"""Frames and messages of the serial protocol: pure functions, checked on a byte stream captured
from the firmware (tests/fixtures/mcu_tinymlp on qemu-m4) and on damaged copies of it."""

from __future__ import annotations

import random
import re
import struct
import zlib
from pathlib import Path

import pytest

from edgekit.measure import mcu_frames as fr

REPO = Path(__file__).resolve().parents[3]
CAPTURE = bytes.fromhex((Path(__file__).parent / "data" / "qemu_m4_tinymlp_session.hex").read_text().strip())


def test_constants_match_the_firmware_header():
    text = (REPO / "firmware" / "harness" / "ek_protocol.h").read_text()
    defines = {m.group(1): int(m.group(2), 0) for m in re.finditer(r"#define EK_(\w+) (0x[0-9A-Fa-f]+|\d+)u", text)}
    assert defines["PROTO_VERSION"] == fr.PROTO_VERSION
    assert bytes([defines["SYNC0"], defines["SYNC1"]]) == fr.SYNC
    assert defines["HEADER_BYTES"] == fr.HEADER_BYTES and defines["MAX_PAYLOAD"] == fr.MAX_PAYLOAD
    for name, value in defines.items():
        for prefix in ("CMD_", "EVT_", "ST_"):
            if name.startswith(prefix):
                assert getattr(fr, name) == value, name
    assert defines["TIMER_SYSTICK_ICOUNT"] == fr.TIMER_SYSTICK_ICOUNT
    assert defines["TIMER_DWT_CYCCNT"] == fr.TIMER_DWT_CYCCNT


def test_encode_layout_and_crc():
    f = fr.encode_frame(fr.CMD_INVOKE, 300, b"\x05\x00\x00\x00")
    assert f[:2] == fr.SYNC and f[2] == fr.PROTO_VERSION and f[3] == fr.CMD_INVOKE and f[4] == 300 & 0xFF
    assert struct.unpack_from("<H", f, 6)[0] == 4 and f[8] == fr.header_crc(f[2:8])
    assert f[9:13] == b"\x05\x00\x00\x00"
    assert struct.unpack_from("<I", f, 13)[0] == zlib.crc32(f[2:13])
    with pytest.raises(ValueError):
        fr.encode_frame(fr.CMD_WRITE_INPUT, 1, bytes(fr.MAX_PAYLOAD + 1))


def _frames(data: bytes, chunk: int = 1) -> tuple[list[fr.Frame], fr.FrameParser]:
    p = fr.FrameParser()
    out: list[fr.Frame] = []
    for i in range(0, len(data), chunk):
        out += p.feed(data[i:i + chunk])
    return out, p


def test_captured_session_decodes():
    frames, parser = _frames(CAPTURE)
    assert parser.crc_errors == 0 and parser.discarded_bytes == 0
    cmds = [f.cmd for f in frames]
    assert cmds[0] == fr.EVT_BOOT
    build_id, board = fr.decode_boot(frames[0].payload)
    assert board == "mps2-an386" and re.fullmatch(r"[0-9a-f]{16}", build_id)
    hello = fr.decode_hello(frames[1].payload)
    assert (hello.board, hello.model, hello.build_id) == ("mps2-an386", "tinymlp", build_id)
    assert hello.core_clock_hz == hello.timer_hz == 25_000_000 and hello.timer_method == fr.TIMER_SYSTICK_ICOUNT
    assert hello.input_bytes == (64,) and hello.output_bytes == (16,) and hello.arena_bytes == 128
    assert hello.per_layer and hello.max_payload == fr.MAX_PAYLOAD
    # INVOKE: an ACCEPTED frame, 3 PROGRESS events, then the result
    inv = [f for f in frames if f.cmd == fr.CMD_INVOKE | fr.RESPONSE_BIT]
    assert [f.status for f in inv] == [fr.ST_ACCEPTED, fr.ST_OK]
    progress = [struct.unpack("<I", f.payload)[0] for f in frames if f.cmd == fr.EVT_PROGRESS]
    assert progress == [1, 2, 3]
    result = fr.decode_invoke(inv[1].payload)
    out = next(f for f in frames if f.cmd == fr.CMD_READ_OUTPUT | fr.RESPONSE_BIT).payload
    assert result.repeats == 3 and result.model_status == 0
    assert result.input_crc == zlib.crc32(bytes(range(64))) and result.output_crc == zlib.crc32(out)
    assert result.ticks_min <= result.ticks_total / 3 <= result.ticks_max
    layers = fr.decode_layers(next(f for f in frames if f.cmd == fr.CMD_READ_LAYERS | fr.RESPONSE_BIT).payload)
    assert layers.layers_total == 2 and layers.repeats == 3
    assert result.ticks_total - sum(layers.ticks) <= 3   # the layers add up to the total
    mem = fr.decode_memory(next(f for f in frames if f.cmd == fr.CMD_READ_MEMORY | fr.RESPONSE_BIT).payload)
    assert mem.stack_bytes == 16384 and 0 < mem.stack_used_bytes < mem.stack_bytes and mem.input_stage_bytes == 64


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_chunking_does_not_matter(chunk):
    assert _frames(CAPTURE, chunk)[0] == _frames(CAPTURE)[0]


def test_garbage_and_damage_never_yield_a_wrong_frame():
    good = _frames(CAPTURE)[0]
    rng = random.Random(7)
    for trial in range(200):
        data = bytearray(CAPTURE)
        for _ in range(rng.randint(1, 6)):
            pos = rng.randrange(len(data))
            kind = rng.choice(("flip", "drop", "insert"))
            if kind == "flip":
                data[pos] ^= 1 << rng.randrange(8)
            elif kind == "drop":
                del data[pos]
            else:
                data.insert(pos, rng.randrange(256))
        frames, _ = _frames(bytes(rng.randbytes(rng.randint(0, 40))) + bytes(data))
        # every frame that comes out is one that was sent (CRC-32 rejects the damaged ones)
        for f in frames:
            assert f in good, f"trial {trial}: parser produced a frame that was never sent"


def test_frame_found_after_a_lost_byte():
    a = fr.encode_frame(fr.CMD_HELLO, 1)
    b = fr.encode_frame(fr.CMD_READ_MEMORY, 2)
    frames, parser = _frames(a[:-1] + b)   # last CRC byte of a lost: b starts inside a's frame
    assert [f.cmd for f in frames] == [fr.CMD_READ_MEMORY] and parser.crc_errors == 1


def test_oversized_length_is_skipped():
    head = bytes([1, 1, 0, 0]) + struct.pack("<H", fr.MAX_PAYLOAD + 1)
    bogus = fr.SYNC + head + bytes([fr.header_crc(head)])
    frames, _ = _frames(bogus + fr.encode_frame(fr.CMD_HELLO, 9))
    assert [(f.cmd, f.seq) for f in frames] == [(fr.CMD_HELLO, 9)]


def test_damaged_length_does_not_swallow_the_next_frame():
    good = fr.encode_frame(fr.CMD_INVOKE, 3, b"\x01\x00\x00\x00")
    damaged = bytearray(good)
    damaged[6] = 0xFF                                     # length now 1023 + ...: header check fails
    frames, _ = _frames(bytes(damaged) + good)
    assert [(f.cmd, f.seq) for f in frames] == [(fr.CMD_INVOKE, 3)]


def test_header_crc_known_value():
    assert fr.header_crc(b"123456789") == 0xF4            # CRC-8/SMBUS check value


def test_bad_payloads_raise_message_error():
    with pytest.raises(fr.MessageError):
        fr.decode_invoke(b"\x00" * 35)
    with pytest.raises(fr.MessageError):
        fr.decode_hello(b"\x05ab")
    with pytest.raises(fr.MessageError):
        fr.decode_layers(struct.pack("<HHI", 3, 2, 1) + b"\x00" * 8)


def test_fault_description_names_the_registers():
    f = fr.decode_fault(struct.pack("<6I", 5, 0x1234, 0x5678, 0x8200, 0x40000000, 0xFFFFFFF0))
    text = f.describe()
    assert "BusFault" in text and "pc=0x00001234" in text and "BFAR=0xfffffff0" in text
