"""Loadable segments of a 32-bit little-endian ELF (a Cortex-M firmware image), read with the
standard library only: what a flasher must program and can verify by reading back."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from edgekit.core.errors import InputFileError

PT_LOAD = 1


@dataclass(frozen=True)
class Segment:
    address: int       # load (physical) address: where the bytes live in flash
    data: bytes


def load_segments(path: Path) -> list[Segment]:
    """PT_LOAD segments with file contents (.text, .rodata, the load image of .data)."""
    raw = Path(path).read_bytes()
    if raw[:4] != b"\x7fELF" or raw[4] != 1 or raw[5] != 1:
        raise InputFileError(f"{path} is not a 32-bit little-endian ELF file", "pass the firmware.elf of the build")
    phoff, = struct.unpack_from("<I", raw, 0x1C)
    phentsize, phnum = struct.unpack_from("<HH", raw, 0x2A)
    out = []
    for k in range(phnum):
        p_type, p_offset, _vaddr, p_paddr, p_filesz, _memsz, _flags, _align = struct.unpack_from(
            "<8I", raw, phoff + k * phentsize)
        if p_type == PT_LOAD and p_filesz:
            if p_offset + p_filesz > len(raw):
                raise InputFileError(f"{path}: segment {k} runs past the end of the file", "rebuild the firmware")
            out.append(Segment(p_paddr, raw[p_offset:p_offset + p_filesz]))
    if not out:
        raise InputFileError(f"{path} has no loadable segments", "rebuild the firmware")
    return out
