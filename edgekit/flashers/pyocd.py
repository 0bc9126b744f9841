"""pyOCD flasher: real boards through CMSIS-DAP / ST-Link probes, with pyOCD's Python API —
program the ELF, read every loadable segment back and compare, reset and run.

pyOCD is optional (``pip install 'edgekit[hardware]'``) and imported only here, when a profile
asks for it. Not verified on silicon in this project: the call sequence is unit-tested against a
stand-in module and the real path is marked ``hardware`` in the tests.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Sequence

from edgekit.core.errors import DeviceError, ProfileError, ToolMissingError
from edgekit.flashers.base import BoardSession, Flasher, Preload
from edgekit.flashers.boards import RealBoardSession
from edgekit.flashers.elf import load_segments


def import_pyocd() -> tuple[Any, Any]:
    """(ConnectHelper, FileProgrammer), or ToolMissingError with the install hint."""
    try:
        helpers = importlib.import_module("pyocd.core.helpers")
        programmer = importlib.import_module("pyocd.flash.file_programmer")
    except ImportError:
        raise ToolMissingError("pyOCD is not installed (needed by [flash] method = \"pyocd\")",
                               "pip install 'edgekit[hardware]' (or pip install pyocd), then plug in the board") from None
    return helpers.ConnectHelper, programmer.FileProgrammer


class PyocdFlasher(Flasher):
    method = "pyocd"

    def __init__(self, profile: Any) -> None:
        super().__init__(profile)
        if "pyocd_target" not in profile.flash:
            raise ProfileError(f"{profile.path} [flash]: method pyocd needs pyocd_target", "add pyocd_target")

    def start(self, image: Path, preloads: Sequence[Preload] = ()) -> BoardSession:
        self._check_image(image)
        self._refuse_preloads(preloads)
        segments = load_segments(image)
        connect_helper, file_programmer = import_pyocd()
        uid = str(self.profile.flash.get("probe_uid", "")) or None
        target = str(self.profile.flash["pyocd_target"])
        session = connect_helper.session_with_chosen_probe(unique_id=uid, target_override=target, blocking=False,
                                                            return_first=False)
        if session is None:
            which = f"probe {uid}" if uid else "debug probe"
            raise DeviceError(f"pyOCD found no {which} for {self.profile.id}",
                              "plug the board in by its debug USB port (or set [flash].probe_uid when several are attached)")
        with session:
            file_programmer(session).program(str(image), file_format="elf")
            for seg in segments:
                got = bytes(session.target.read_memory_block8(seg.address, len(seg.data)))
                if got != seg.data:
                    bad = next(i for i, (a, b) in enumerate(zip(got, seg.data)) if a != b)
                    raise DeviceError(f"flash verify failed on {self.profile.id} at 0x{seg.address + bad:08x}",
                                      "erase the chip (pyocd erase --chip) and flash again")
            session.target.reset()
        return RealBoardSession(self.profile)
