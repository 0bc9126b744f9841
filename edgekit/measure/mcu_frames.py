"""The edgekit serial protocol's frames and messages, as pure functions (see firmware/PROTOCOL.md).

Frame: ``A5 5A | version | cmd | seq | status | len (u16 LE) | hcrc | payload | CRC-32 (u32 LE)``;
hcrc is a CRC-8 (polynomial 0x07) of the six header bytes after the sync, so a damaged length is
rejected at once; the CRC-32 (zlib's) covers version..payload. These constants mirror firmware/harness/ek_protocol.h (a unit
test checks that they agree).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

PROTO_VERSION = 1
SYNC = b"\xa5\x5a"
HEADER_BYTES = 9
CRC_BYTES = 4
MAX_PAYLOAD = 1024

CMD_HELLO = 0x01
CMD_WRITE_INPUT = 0x02
CMD_LOAD_BANK = 0x03
CMD_INVOKE = 0x04
CMD_READ_OUTPUT = 0x05
CMD_READ_LAYERS = 0x06
CMD_READ_MEMORY = 0x07
CMD_CALIBRATE = 0x08
CMD_RESET = 0x09
CMD_EXIT = 0x0A
RESPONSE_BIT = 0x80

EVT_BOOT = 0x40
EVT_PROGRESS = 0x41
EVT_FAULT = 0x42

ST_OK = 0
ST_ACCEPTED = 1
ST_BAD_VERSION = 2
ST_BAD_CMD = 3
ST_BAD_ARG = 4
ST_MODEL_ERROR = 5
ST_NO_SPACE = 6
ST_BAD_CRC = 7
ST_UNSUPPORTED = 8
ST_TIMER_OVERFLOW = 9

TIMER_SYSTICK_ICOUNT = 1
TIMER_DWT_CYCCNT = 2

COMMAND_NAMES = {CMD_HELLO: "HELLO", CMD_WRITE_INPUT: "WRITE_INPUT", CMD_LOAD_BANK: "LOAD_BANK",
                 CMD_INVOKE: "INVOKE", CMD_READ_OUTPUT: "READ_OUTPUT", CMD_READ_LAYERS: "READ_LAYERS",
                 CMD_READ_MEMORY: "READ_MEMORY", CMD_CALIBRATE: "CALIBRATE", CMD_RESET: "RESET",
                 CMD_EXIT: "EXIT"}
STATUS_NAMES = {ST_OK: "ok", ST_ACCEPTED: "accepted", ST_BAD_VERSION: "bad protocol version",
                ST_BAD_CMD: "unknown command", ST_BAD_ARG: "bad argument", ST_MODEL_ERROR: "model error",
                ST_NO_SPACE: "inputs do not fit in free RAM", ST_BAD_CRC: "damaged frame (NAK)",
                ST_UNSUPPORTED: "not supported by this board", ST_TIMER_OVERFLOW: "timer overflow"}


@dataclass(frozen=True)
class Frame:
    version: int
    cmd: int
    seq: int
    status: int
    payload: bytes


def header_crc(head: bytes) -> int:
    """CRC-8, polynomial 0x07, initial value 0, of the six header bytes after the sync."""
    c = 0
    for b in head:
        c ^= b
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


def encode_frame(cmd: int, seq: int, payload: bytes = b"", status: int = 0,
                 version: int = PROTO_VERSION) -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    head = struct.pack("<BBBBH", version, cmd, seq & 0xFF, status, len(payload))
    body = head + bytes([header_crc(head)]) + payload
    return SYNC + body + struct.pack("<I", zlib.crc32(body))


class FrameParser:
    """Turns a byte stream into frames; skips garbage, damaged headers and CRC failures.

    A damaged frame is dropped one byte at a time so that a good frame starting inside it (after
    a lost byte) is still found."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.crc_errors = 0
        self.discarded_bytes = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        out: list[Frame] = []
        buf = self._buf
        while True:
            start = buf.find(SYNC)
            if start < 0:
                keep = 1 if buf.endswith(SYNC[:1]) else 0
                self.discarded_bytes += len(buf) - keep
                del buf[:len(buf) - keep]
                break
            if start:
                self.discarded_bytes += start
                del buf[:start]
            if len(buf) < HEADER_BYTES:
                break
            length = buf[6] | (buf[7] << 8)
            if length > MAX_PAYLOAD or buf[8] != header_crc(bytes(buf[2:8])):
                self.discarded_bytes += 1
                del buf[:1]
                continue
            total = HEADER_BYTES + length + CRC_BYTES
            if len(buf) < total:
                break
            body = bytes(buf[2:HEADER_BYTES + length])
            (crc,) = struct.unpack_from("<I", buf, HEADER_BYTES + length)
            if zlib.crc32(body) != crc:
                self.crc_errors += 1
                self.discarded_bytes += 1
                del buf[:1]
                continue
            out.append(Frame(version=body[0], cmd=body[1], seq=body[2], status=body[3],
                             payload=body[7:]))
            del buf[:total]
        return out

    def clear(self) -> None:
        self._buf.clear()


# -- messages ----------------------------------------------------------------------------------

class MessageError(ValueError):
    """A payload with a valid CRC but a layout this host does not understand."""


def _str(p: bytes, off: int) -> tuple[str, int]:
    if off >= len(p):
        raise MessageError("payload ends inside a string")
    n = p[off]
    if off + 1 + n > len(p):
        raise MessageError("string runs past the payload")
    return p[off + 1:off + 1 + n].decode("ascii", errors="replace"), off + 1 + n


@dataclass(frozen=True)
class Hello:
    build_id: str
    board: str
    model: str
    core_clock_hz: int
    timer_hz: int
    timer_method: int           # TIMER_SYSTICK_ICOUNT | TIMER_DWT_CYCCNT
    per_layer: bool
    max_payload: int
    max_layers: int
    arena_bytes: int
    stack_bytes: int
    free_bytes: int             # RAM after .bss; the harness stages inputs there
    bank_bytes: int             # memory the host may preload with inputs (0: none)
    timer_overhead_ticks: int   # subtracted from every measured window
    input_bytes: tuple[int, ...]
    output_bytes: tuple[int, ...]


def decode_hello(p: bytes) -> Hello:
    build_id, off = _str(p, 0)
    board, off = _str(p, off)
    model, off = _str(p, off)
    if len(p) < off + 36:
        raise MessageError("HELLO payload too short")
    clock, timer_hz, method, per_layer, max_payload, max_layers, ni, no = struct.unpack_from(
        "<IIBBHHBB", p, off)
    arena, stack, free, bank, overhead = struct.unpack_from("<IIIII", p, off + 16)
    off += 36
    if len(p) != off + 4 * (ni + no):
        raise MessageError(f"HELLO payload has {len(p)} bytes, expected {off + 4 * (ni + no)}")
    sizes = struct.unpack_from(f"<{ni + no}I", p, off)
    return Hello(build_id, board, model, clock, timer_hz, method, bool(per_layer), max_payload, max_layers,
                 arena, stack, free, bank, overhead, tuple(sizes[:ni]), tuple(sizes[ni:]))


@dataclass(frozen=True)
class InvokeResult:
    model_status: int
    repeats: int
    input_crc: int
    output_crc: int
    ticks_total: int            # summed over the repeats, timer overhead removed
    ticks_min: int
    ticks_max: int
    stack_used_bytes: int       # deepest stack use during these invokes (harness frames included)


def decode_invoke(p: bytes) -> InvokeResult:
    if len(p) != 36:
        raise MessageError(f"INVOKE result has {len(p)} bytes, expected 36")
    status, repeats, in_crc, out_crc = struct.unpack_from("<iIII", p, 0)
    (total,) = struct.unpack_from("<Q", p, 16)
    tmin, tmax, stack = struct.unpack_from("<III", p, 24)
    return InvokeResult(status, repeats, in_crc, out_crc, total, tmin, tmax, stack)


NOT_MEASURED = 0xFFFFFFFFFFFFFFFF


@dataclass(frozen=True)
class LayerChunk:
    layers_total: int
    repeats: int
    ticks: tuple[int | None, ...]   # summed over the repeats; None: that layer has no stamps


def decode_layers(p: bytes) -> LayerChunk:
    if len(p) < 8:
        raise MessageError("READ_LAYERS payload too short")
    total, count, repeats = struct.unpack_from("<HHI", p, 0)
    if len(p) != 8 + 8 * count:
        raise MessageError(f"READ_LAYERS payload has {len(p)} bytes for {count} layers")
    values = struct.unpack_from(f"<{count}Q", p, 8)
    return LayerChunk(total, repeats, tuple(None if v == NOT_MEASURED else v for v in values))


@dataclass(frozen=True)
class MemoryInfo:
    stack_bytes: int
    stack_used_bytes: int
    data_bytes: int
    bss_bytes: int
    arena_bytes: int
    input_stage_bytes: int
    free_bytes: int


def decode_memory(p: bytes) -> MemoryInfo:
    if len(p) != 28:
        raise MessageError(f"READ_MEMORY payload has {len(p)} bytes, expected 28")
    return MemoryInfo(*struct.unpack("<7I", p))


@dataclass(frozen=True)
class Fault:
    exception: int
    pc: int
    lr: int
    cfsr: int
    hfsr: int
    bfar: int

    def describe(self) -> str:
        names = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault", 7: "SecureFault"}
        kind = names.get(self.exception, f"exception {self.exception}")
        return (f"{kind} at pc=0x{self.pc:08x} lr=0x{self.lr:08x} "
                f"(CFSR=0x{self.cfsr:08x} HFSR=0x{self.hfsr:08x} BFAR=0x{self.bfar:08x})")


def decode_fault(p: bytes) -> Fault:
    if len(p) != 24:
        raise MessageError(f"FAULT payload has {len(p)} bytes, expected 24")
    return Fault(*struct.unpack("<6I", p))


def decode_boot(p: bytes) -> tuple[str, str]:
    build_id, off = _str(p, 0)
    board, _ = _str(p, off)
    return build_id, board
