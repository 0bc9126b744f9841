"""The flasher interface: put a firmware image on a board, start it, hand back a running session.

One small interface for every way of reaching a board; the device profile's ``[flash] method``
names the implementation (a data table, not an if/elif chain). A session is a context manager:
leaving it stops what the flasher started (for QEMU: the emulator process, always).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Sequence

from edgekit.core.errors import DeviceError, ProfileError
from edgekit.core.profile import DeviceProfile
from edgekit.transports.serial import SerialOptions


@dataclass(frozen=True)
class Preload:
    """Bytes an emulator places in memory before the firmware starts (bulk inputs)."""

    path: Path
    address: int


class BoardSession(ABC):
    """A board running the flashed image."""

    #: True when the board's BOOT frame is guaranteed to reach the host (the emulator waits for
    #: the host to connect before it starts the CPU); real boards may boot before the port opens.
    boot_announced: ClassVar[bool] = False
    #: True when an exit status can be read back (semihosting in QEMU).
    has_exit_code: ClassVar[bool] = False

    @abstractmethod
    def serial_options(self) -> SerialOptions:
        """How to open the board's serial link."""

    @abstractmethod
    def stop(self) -> None:
        """Stop whatever the flasher started; safe to call twice."""

    def exit_code(self, timeout_s: float = 0.0) -> int | None:
        """The firmware's exit status when it has stopped, else None."""
        return None

    def __enter__(self) -> "BoardSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Flasher(ABC):
    method: ClassVar[str]
    supports_preload: ClassVar[bool] = False

    def __init__(self, profile: DeviceProfile) -> None:
        self.profile = profile

    @abstractmethod
    def start(self, image: Path, preloads: Sequence[Preload] = ()) -> BoardSession:
        """Program (or load) ``image`` and start the board; the caller must stop the session."""

    def _check_image(self, image: Path) -> None:
        if not image.is_file():
            raise DeviceError(f"firmware image {image} does not exist", "build it first (edgekit flash builds it)")
        if image.suffix != ".elf":
            raise DeviceError(f"firmware image {image} is not an ELF file", "pass the firmware.elf the build wrote")

    def _refuse_preloads(self, preloads: Sequence[Preload]) -> None:
        if preloads:
            raise DeviceError(f"the {self.method} flasher cannot preload memory",
                              "send inputs over the serial link instead (the default for real boards)")


# method -> "module:Class"; imported on use so a missing optional package only matters when chosen
FLASHERS: dict[str, str] = {
    "qemu": "edgekit.flashers.qemu:QemuFlasher",
    "pyocd": "edgekit.flashers.pyocd:PyocdFlasher",
    "openocd": "edgekit.flashers.openocd:OpenocdFlasher",
}


def flasher_for(profile: DeviceProfile) -> Flasher:
    if profile.kind != "mcu":
        raise ProfileError(f"device '{profile.id}' is a {profile.kind} device, not a microcontroller",
                           "flash and run firmware only on mcu profiles; use `edgekit profile` for the others")
    method = str(profile.flash.get("method", ""))
    spec = FLASHERS.get(method)
    if spec is None:
        raise ProfileError(f"{profile.path}: unknown flash method {method!r}", f"use one of {', '.join(FLASHERS)}")
    module, cls = spec.split(":")
    flasher: Flasher = getattr(importlib.import_module(module), cls)(profile)
    return flasher
