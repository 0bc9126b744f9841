"""What produced a microcontroller measurement: edgekit's version, the cross compiler, QEMU, and a
hash of the code that runs on the board. Every MCU trace row carries these (``tool_versions``),
so that counts taken with other kernels or another compiler are never mixed up."""

from __future__ import annotations

import functools
import hashlib
import shutil
import subprocess
from pathlib import Path

from edgekit.core.version import edgekit_version

REPO = Path(__file__).resolve().parents[2]


def first_line_of(argv: list[str]) -> str:
    """The first line a tool prints for ``argv`` ("absent" when it is not installed)."""
    exe = shutil.which(argv[0])
    if exe is None:
        return "absent"
    out = subprocess.run([exe, *argv[1:]], capture_output=True, text=True).stdout
    return out.splitlines()[0].strip() if out else "unknown"


def board_code_version(kernels: str = "portable") -> str:
    """sha256 (prefix) of what decides the code that runs on the board: the generated libraries'
    kernels of this variant and templates, the code generator, and the firmware harness.
    Instruction counts change when it changes, so it is part of a microcontroller LUT's
    measurement configuration."""
    h = hashlib.sha256()
    kdir = REPO / "edgekit" / "codegen" / "kernels"
    files = sorted(kdir.glob("*.[ch]")) + sorted((kdir / kernels.replace("-", "_")).rglob("*.[ch]"))
    files += sorted((REPO / "edgekit" / "codegen" / "templates").glob("*"))
    files += sorted((REPO / "firmware").rglob("*.[chS]")) + sorted((REPO / "firmware").rglob("*.ld"))
    files += sorted((REPO / "edgekit" / "codegen").glob("*.py")) + sorted((REPO / "edgekit" / "codegen" / "ops").glob("*.py"))
    for f in files:
        if f.is_file():
            h.update(str(f.relative_to(REPO)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def mcu_tool_versions(emulated: bool, kernels: str = "portable") -> dict[str, str]:
    tools = {"edgekit": edgekit_version(), "arm-none-eabi-gcc": first_line_of(["arm-none-eabi-gcc", "-dumpversion"]),
             "board-code": board_code_version(kernels)}
    if emulated:
        tools["qemu-system-arm"] = first_line_of(["qemu-system-arm", "--version"])
    return tools
