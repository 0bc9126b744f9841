"""Host client of the edgekit serial protocol (firmware/PROTOCOL.md) over any BYTES transport.

Every request carries a sequence number; a reply counts only when its CRC, version, command and
sequence number match. A lost or damaged request or reply is retransmitted (a bounded number of
times); the device answers a retransmission from its kept reply, so nothing runs twice. Outputs are
read in chunks and checked against the CRC the device computed over the whole buffer, and the
input CRC reported by INVOKE must equal the host's: a flipped byte is never accepted as data.
A BOOT event in the middle of a request means the board reset (BoardResetError); a FAULT event
means it crashed (DeviceFaultError).
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from dataclasses import dataclass

from edgekit.core.errors import DeviceError
from edgekit.core.transport import Transport
from edgekit.measure import mcu_frames as fr


class BoardResetError(DeviceError):
    """The board rebooted while a request was in flight (its state is gone)."""


class DeviceFaultError(DeviceError):
    """The firmware reported a CPU fault."""


class ProtocolMismatchError(DeviceError):
    """The firmware speaks another protocol version or is another build than expected."""


@dataclass(frozen=True)
class ProtocolOptions:
    reply_timeout_s: float = 2.0         # wait for the reply to one transmission
    retries: int = 6                     # retransmissions of one request before giving up
    invoke_idle_timeout_s: float = 300.0  # an INVOKE may run long; fail after this long without any frame
    boot_timeout_s: float = 10.0         # wait for the BOOT event after start or reset


@dataclass
class LinkStats:
    requests: int = 0
    retransmissions: int = 0
    crc_errors: int = 0
    naks: int = 0
    stale_frames: int = 0


class McuClient:
    def __init__(self, transport: Transport, options: ProtocolOptions = ProtocolOptions()) -> None:
        self.transport = transport
        self.options = options
        self.stats = LinkStats()
        self._parser = fr.FrameParser()
        self._pending: list[fr.Frame] = []
        self._seq = os.urandom(1)[0]    # never collide with a kept reply from an earlier session
        self.hello_info: fr.Hello | None = None
        self._s_per_invoke: float | None = None     # wall time of one invoke, seen on a clean exchange

    # -- frames ------------------------------------------------------------------------------
    def _next_frame(self, deadline: float) -> fr.Frame | None:
        while not self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            data = self.transport.read(4096, min(remaining, 0.25))
            if data:
                self._pending.extend(self._parser.feed(data))
                self.stats.crc_errors = self._parser.crc_errors
        return self._pending.pop(0)

    def _check_event(self, f: fr.Frame) -> None:
        if f.cmd == fr.EVT_BOOT:
            build_id, board = fr.decode_boot(f.payload)
            raise BoardResetError(f"the board ({board}, build {build_id}) restarted during the request",
                                  "its state is lost; the run is retried from the input upload")
        if f.cmd == fr.EVT_FAULT:
            raise DeviceFaultError(f"the firmware crashed: {fr.decode_fault(f.payload).describe()}",
                                   "look up the pc in the firmware's .map file; report it with the model")

    def wait_boot(self, timeout_s: float | None = None, required: bool = True) -> tuple[str, str] | None:
        """Wait for the BOOT event (after power-up or a reset); returns (build id, board). With
        ``required=False`` a missing (e.g. damaged) BOOT frame returns None: HELLO decides then."""
        deadline = time.monotonic() + (self.options.boot_timeout_s if timeout_s is None else timeout_s)
        while True:
            f = self._next_frame(deadline)
            if f is None:
                if not required:
                    return None
                raise DeviceError("the board did not announce itself (no BOOT frame)",
                                  "check that the firmware was flashed and the serial port is the board's")
            if f.version == fr.PROTO_VERSION and f.cmd == fr.EVT_BOOT:
                return fr.decode_boot(f.payload)
            if f.cmd == fr.EVT_FAULT:
                self._check_event(f)
            self.stats.stale_frames += 1

    def request(self, cmd: int, payload: bytes = b"", running_s: float | None = None) -> fr.Frame:
        """Send one request and return its reply (status OK or MODEL_ERROR); retries within bounds.

        ``running_s``: how long the command may run after the device accepted it before the
        request is sent again (the device answers a repeated request from its kept reply, so a
        lost result costs this long, not the idle timeout); None: the idle timeout."""
        self._seq = (self._seq + 1) & 0xFF
        seq = self._seq
        frame = fr.encode_frame(cmd, seq, payload)
        name = fr.COMMAND_NAMES.get(cmd, f"0x{cmd:02x}")
        self.stats.requests += 1
        last_problem = "no reply"
        for attempt in range(self.options.retries + 1):
            if attempt:
                self.stats.retransmissions += 1
            self.transport.write(frame)
            deadline = time.monotonic() + self.options.reply_timeout_s
            while True:
                f = self._next_frame(deadline)
                if f is None:
                    last_problem = f"no reply within {self.options.reply_timeout_s:g} s"
                    break
                self._check_event(f)
                if f.cmd == fr.EVT_PROGRESS:
                    deadline = time.monotonic() + (running_s or self.options.invoke_idle_timeout_s)
                    continue
                if f.version != fr.PROTO_VERSION:
                    raise ProtocolMismatchError(
                        f"the firmware speaks protocol version {f.version}, this host speaks {fr.PROTO_VERSION}",
                        "rebuild and flash the firmware with this edgekit (edgekit flash MODEL --device ID)")
                if f.cmd != (cmd | fr.RESPONSE_BIT) or f.seq != seq:
                    self.stats.stale_frames += 1      # a late reply to an earlier transmission
                    continue
                if f.status == fr.ST_BAD_CRC:
                    self.stats.naks += 1
                    last_problem = "the device received a damaged frame"
                    break
                if f.status == fr.ST_ACCEPTED:
                    deadline = time.monotonic() + (running_s or self.options.invoke_idle_timeout_s)
                    continue
                if f.status in (fr.ST_OK, fr.ST_MODEL_ERROR):
                    return f
                if f.status == fr.ST_BAD_VERSION:
                    raise ProtocolMismatchError(f"the firmware refused protocol version {fr.PROTO_VERSION}",
                                                "rebuild and flash the firmware with this edgekit")
                raise DeviceError(f"{name} refused by the device: {fr.STATUS_NAMES.get(f.status, f.status)}",
                                  "the firmware and the host disagree about the model; rebuild and flash it")
        raise DeviceError(f"{name}: {last_problem} after {self.options.retries + 1} attempts "
                          f"({self.stats.crc_errors} damaged frames so far)",
                          "check the serial link (cable, port, baud rate) and that the board still runs")

    # -- commands ----------------------------------------------------------------------------
    def hello(self, expect_build_id: str | None = None) -> fr.Hello:
        info = fr.decode_hello(self.request(fr.CMD_HELLO).payload)
        if expect_build_id is not None and info.build_id != expect_build_id:
            raise ProtocolMismatchError(
                f"the board runs firmware build {info.build_id} (model {info.model!r}), expected {expect_build_id}",
                "flash the firmware built for this model: edgekit flash MODEL --device ID")
        self.hello_info = info
        return info

    def _chunk(self) -> int:
        return min(self.hello_info.max_payload if self.hello_info else fr.MAX_PAYLOAD, fr.MAX_PAYLOAD)

    def write_input(self, index: int, data: bytes) -> None:
        step = self._chunk() - 8
        for off in range(0, len(data), step):
            self.request(fr.CMD_WRITE_INPUT, struct.pack("<BxxxI", index, off) + data[off:off + step])

    def load_bank(self, offset: int) -> int:
        """Copy the inputs from the preloaded bank at ``offset``; returns the device's CRC of them."""
        (crc,) = struct.unpack("<I", self.request(fr.CMD_LOAD_BANK, struct.pack("<I", offset)).payload)
        return crc

    def invoke(self, repeats: int) -> fr.InvokeResult:
        # after the first invoke the host knows roughly how long one takes; a lost result is then
        # asked for again after a few times that, instead of after the idle timeout
        running_s = None
        if self._s_per_invoke is not None:
            running_s = min(self.options.invoke_idle_timeout_s,
                            max(self.options.reply_timeout_s, 4.0 * self._s_per_invoke + 0.2))
        start, retx = time.monotonic(), self.stats.retransmissions
        f = self.request(fr.CMD_INVOKE, struct.pack("<I", repeats), running_s)
        if self.stats.retransmissions == retx:
            per = (time.monotonic() - start) / repeats
            self._s_per_invoke = per if self._s_per_invoke is None else max(self._s_per_invoke, per)
        result = fr.decode_invoke(f.payload)
        if f.status == fr.ST_MODEL_ERROR:
            raise DeviceError(f"the model's invoke returned {result.model_status} on the device",
                              "the generated library reported an error; run `edgekit verify` on the host")
        return result

    def read_output(self, index: int, size: int) -> bytes:
        out = bytearray()
        step = self._chunk()
        while len(out) < size:
            n = min(step, size - len(out))
            part = self.request(fr.CMD_READ_OUTPUT, struct.pack("<BxxxIH", index, len(out), n)).payload
            if len(part) != n:
                raise DeviceError(f"READ_OUTPUT returned {len(part)} bytes, asked for {n}",
                                  "the firmware and host disagree about the output size; rebuild it")
            out += part
        return bytes(out)

    def read_outputs_checked(self, sizes: tuple[int, ...], expect_crc: int) -> list[bytes]:
        """All outputs; their CRC must equal the one the device computed after the invoke."""
        for _ in range(3):
            outs = [self.read_output(i, n) for i, n in enumerate(sizes)]
            crc = 0
            for o in outs:
                crc = zlib.crc32(o, crc)
            if crc == expect_crc:
                return outs
            self.stats.crc_errors += 1
        raise DeviceError("the outputs read back do not match the device's own CRC three times",
                          "the serial link corrupts data; check the cable and baud rate")

    def read_layers(self) -> fr.LayerChunk:
        per = (self._chunk() - 8) // 8
        first = fr.decode_layers(self.request(fr.CMD_READ_LAYERS, struct.pack("<HH", 0, per)).payload)
        ticks = list(first.ticks)
        while len(ticks) < first.layers_total:
            more = fr.decode_layers(self.request(fr.CMD_READ_LAYERS, struct.pack("<HH", len(ticks), per)).payload)
            if not more.ticks:
                raise DeviceError("READ_LAYERS stopped early", "rerun; if it persists, rebuild the firmware")
            ticks += more.ticks
        return fr.LayerChunk(first.layers_total, first.repeats, tuple(ticks))

    def read_memory(self) -> fr.MemoryInfo:
        return fr.decode_memory(self.request(fr.CMD_READ_MEMORY).payload)

    def calibrate(self, iterations: int) -> tuple[int, int]:
        """(timer ticks for a loop of exactly 2 * iterations instructions, reads the phase lock saw
        before the tick edge: 2..7 when it locked, 0 on cycle counters that need no lock)."""
        ticks, reads = struct.unpack("<QI", self.request(fr.CMD_CALIBRATE, struct.pack("<I", iterations)).payload)
        return ticks, reads

    def reset(self) -> tuple[str, str]:
        """Reset the board and wait until it announces itself again."""
        self.request(fr.CMD_RESET)
        boot = self.wait_boot()
        assert boot is not None
        return boot

    def exit(self, code: int = 0) -> None:
        """Emulators only: stop with an exit status (semihosting)."""
        self.request(fr.CMD_EXIT, struct.pack("<I", code & 0xFFFFFFFF))
