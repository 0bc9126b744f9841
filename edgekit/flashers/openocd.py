"""OpenOCD flasher: runs the profile's ``[flash] openocd_command`` (an argv template in which
``{image}`` becomes the ELF path), e.g.
``["openocd", "-f", "board/nordic_nrf52_dk.cfg", "-c", "program {image} verify reset exit"]``.
The command must program, verify and reset; a non-zero exit status is a DeviceError."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any, Sequence

from edgekit.core.errors import DeviceError, ProfileError, ToolMissingError
from edgekit.flashers.base import BoardSession, Flasher, Preload
from edgekit.flashers.boards import RealBoardSession


class OpenocdFlasher(Flasher):
    method = "openocd"
    timeout_s = 180.0

    def __init__(self, profile: Any) -> None:
        super().__init__(profile)
        cmd = profile.flash.get("openocd_command")
        if not cmd or not all(isinstance(x, str) for x in cmd):
            raise ProfileError(f"{profile.path} [flash]: openocd_command must be a non-empty list of strings",
                               'e.g. ["openocd", "-f", "board/X.cfg", "-c", "program {image} verify reset exit"]')
        if not any("{image}" in x for x in cmd):
            raise ProfileError(f"{profile.path} [flash]: openocd_command never mentions {{image}}",
                               "put {image} where the ELF path goes")

    def argv(self, image: Path) -> list[str]:
        return [x.replace("{image}", str(image)) for x in self.profile.flash["openocd_command"]]

    def start(self, image: Path, preloads: Sequence[Preload] = ()) -> BoardSession:
        self._check_image(image)
        self._refuse_preloads(preloads)
        argv = self.argv(image)
        if shutil.which(argv[0]) is None:
            raise ToolMissingError(f"{argv[0]} is not installed (needed by [flash] method = \"openocd\")",
                                   "apt-get install openocd, or switch the profile to method pyocd")
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            raise DeviceError(f"{argv[0]} did not finish within {self.timeout_s:g} s", "check the probe and the board") from None
        if proc.returncode != 0:
            lines = (proc.stderr + proc.stdout).strip().splitlines()
            tail = next((ln for ln in reversed(lines) if "rror" in ln), lines[-1] if lines else "")
            raise DeviceError(f"{argv[0]} failed with status {proc.returncode}: {tail.strip()}",
                              "run the command by hand: " + " ".join(argv))
        return RealBoardSession(self.profile)
