"""One session on a board: start it with its flasher, feed every input, invoke, read back outputs,
timing and memory. Raw device figures (timer ticks) only; turning them into instructions or
cycles, and checking outputs against a reference, happens in edgekit.measure.mcu_run.

Inputs go over the serial link, or — on an emulator, when they are large — are preloaded into
memory outside the profile's RAM budget (the board's "bank", see firmware/boards/*/board.h) and
copied by the firmware on request. Either way the firmware returns the CRC of what it will run
on, and the host compares it with its own: a corrupted input is never measured.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from edgekit.core.errors import DeviceError
from edgekit.core.profile import DeviceProfile
from edgekit.flashers.base import BoardSession, Flasher, Preload, flasher_for
from edgekit.measure import mcu_frames as fr
from edgekit.measure.mcu_protocol import BoardResetError, LinkStats, McuClient, ProtocolOptions
from edgekit.targets.mcu import FirmwareImage
from edgekit.transports.serial import SerialTransport

BANK_THRESHOLD_BYTES = 4096   # below this the serial link is fast enough (~10-20 KB/s in QEMU)


@dataclass(frozen=True)
class SessionOptions:
    repeats: int = 1                  # timed invokes per input
    bank: str = "auto"                # auto | on | off: preload inputs into emulator memory
    max_recoveries: int = 2           # board resets / lost state survived per session
    protocol: ProtocolOptions = ProtocolOptions()


@dataclass
class DeviceMeasurement:
    hello: fr.Hello
    outputs: list[list[bytes]]        # [input][output]
    ticks_total: list[int]            # per input: summed over the repeats
    ticks_min: int
    ticks_max: int
    layer_ticks: tuple[int | None, ...] | None   # summed over every input and repeat
    stack_used_bytes: int
    memory: fr.MemoryInfo
    link: LinkStats
    recoveries: int = 0
    used_bank: bool = False
    exit_code: int | None = None
    notes: list[str] = field(default_factory=list)


def _record(inputs: Sequence[bytes]) -> bytes:
    return b"".join(inputs)


def bank_region(board_h: Path) -> tuple[int, int]:
    """(base, bytes) of the board's preload bank, from its board.h; (0, 0) when it has none."""
    import re

    text = board_h.read_text()
    base = re.search(r"#define\s+EK_BANK_BASE\s+(0x[0-9A-Fa-f]+|\d+)u?", text)
    size = re.search(r"#define\s+EK_BANK_BYTES\s+(0x[0-9A-Fa-f]+|\d+)u?", text)
    if not base or not size:
        return 0, 0
    return int(base.group(1), 0), int(size.group(1), 0)


class _Run:
    def __init__(self, client: McuClient, image: FirmwareImage, options: SessionOptions, use_bank: bool,
                 record_bytes: int) -> None:
        self.client, self.image, self.options = client, image, options
        self.use_bank, self.record_bytes = use_bank, record_bytes
        self.recoveries = 0

    def recover(self, why: str) -> None:
        self.recoveries += 1
        if self.recoveries > self.options.max_recoveries:
            raise DeviceError(f"giving up after {self.options.max_recoveries} recoveries: {why}",
                              "the board keeps resetting or losing its input; check its power and the firmware")
        self.client.hello(expect_build_id=self.image.build_id)

    def one_input(self, k: int, inputs: Sequence[bytes]) -> tuple[fr.InvokeResult, list[bytes], fr.LayerChunk | None]:
        want_crc = zlib.crc32(_record(inputs))
        hello = self.client.hello_info
        assert hello is not None
        while True:
            try:
                if self.use_bank:
                    got = self.client.load_bank(k * self.record_bytes)
                    if got != want_crc:
                        raise DeviceError(f"input {k} in the preloaded bank has CRC {got:08x}, expected {want_crc:08x}",
                                          "the preload file and the inputs disagree; rerun")
                else:
                    for i, data in enumerate(inputs):
                        self.client.write_input(i, data)
                result = self.client.invoke(self.options.repeats)
                if result.input_crc != want_crc:
                    # the board lost the input (a reset whose BOOT frame was lost): upload again
                    self.recover(f"input {k} on the board does not match what was sent")
                    continue
                outs = self.client.read_outputs_checked(hello.output_bytes, result.output_crc)
                layers = self.client.read_layers() if hello.per_layer else None
                return result, outs, layers
            except BoardResetError as e:
                self.recover(e.message)


def connect(client: McuClient, session: BoardSession, build_id: str) -> fr.Hello:
    """Take the board's BOOT frame if it comes (an emulator always sends one after the host
    connects; a real board may have sent it before the port opened, or send it just now after
    the flasher's reset), then check with HELLO that it runs ``build_id``."""
    client.wait_boot(timeout_s=None if session.boot_announced else 1.0, required=False)
    try:
        return client.hello(expect_build_id=build_id)
    except BoardResetError:          # it rebooted while we asked: ask once more
        return client.hello(expect_build_id=build_id)


def measure_on_board(profile: DeviceProfile, image: FirmwareImage, inputs: Sequence[Sequence[bytes]],
                     work_dir: Path, options: SessionOptions = SessionOptions(), flasher: Flasher | None = None,
                     on_progress: Callable[[int, int], None] | None = None) -> DeviceMeasurement:
    if not inputs:
        raise DeviceError("no inputs to run", "give --inputs FILE or a positive --count")
    flasher = flasher or flasher_for(profile)
    record_bytes = len(_record(inputs[0]))
    from edgekit.targets.mcu import firmware_root

    base, size = bank_region(firmware_root() / "boards" / image.board / "board.h")
    total = record_bytes * len(inputs)
    fits_bank = flasher.supports_preload and size >= total
    if options.bank == "on" and not fits_bank:
        raise DeviceError(f"inputs cannot be preloaded on {profile.id} ({total:,} bytes; bank {size:,} bytes, "
                          f"flasher {flasher.method})", "use bank = off: inputs then go over the serial link")
    use_bank = fits_bank and (options.bank == "on" or (options.bank == "auto" and total > BANK_THRESHOLD_BYTES))
    preloads: list[Preload] = []
    if use_bank:
        work_dir.mkdir(parents=True, exist_ok=True)
        bank_file = work_dir / "inputs.bank"
        bank_file.write_bytes(b"".join(_record(x) for x in inputs))
        preloads.append(Preload(bank_file, base))

    with flasher.start(image.elf, preloads) as session, SerialTransport(session.serial_options()) as link:
        client = McuClient(link, options.protocol)
        hello = connect(client, session, image.build_id)
        sizes = tuple(len(x) for x in inputs[0])
        if sizes != hello.input_bytes:
            raise DeviceError(f"the firmware's inputs are {hello.input_bytes} bytes, the host has {sizes}",
                              "rebuild the firmware for this model")
        run = _Run(client, image, options, use_bank, record_bytes)
        outputs, totals, tmin, tmax, stack = [], [], None, 0, 0
        layer_sum: list[int | None] | None = None
        for k, xs in enumerate(inputs):
            result, outs, layers = run.one_input(k, xs)
            outputs.append(outs)
            totals.append(result.ticks_total)
            tmin = result.ticks_min if tmin is None else min(tmin, result.ticks_min)
            tmax = max(tmax, result.ticks_max)
            stack = max(stack, result.stack_used_bytes)
            if layers is not None:
                if layer_sum is None:
                    layer_sum = list(layers.ticks)
                elif len(layers.ticks) != len(layer_sum):
                    raise DeviceError("the number of timed layers changed between inputs",
                                      "the firmware's per-layer stamps are inconsistent; rebuild it")
                else:
                    layer_sum = [None if a is None or b is None else a + b for a, b in zip(layer_sum, layers.ticks)]
            if on_progress is not None:
                on_progress(k + 1, len(inputs))
        memory = client.read_memory()
        code = None
        if session.has_exit_code:
            try:
                client.exit(0)
            except DeviceError:
                # The board stops when it executes EXIT, and may do so before its reply has crossed
                # the link (or with the reply damaged, gone when it is asked again): then the
                # link closes under us. Its exit status is what tells whether it stopped cleanly.
                pass
            code = session.exit_code(timeout_s=10.0)
            if code is None:
                raise DeviceError("the emulated board did not stop after EXIT", "rerun with --debug to see why")
            if code != 0:
                raise DeviceError(f"the emulated board exited with status {code}", "rerun with --debug to see why")
    return DeviceMeasurement(hello, outputs, totals, tmin or 0, tmax, None if layer_sum is None else tuple(layer_sum),
                             stack, memory, client.stats, run.recoveries, use_bank, code)
