"""A minimal 32-bit little-endian ELF with given load segments (what a linker would write)."""

from __future__ import annotations

import struct


def make_elf(segments: list[tuple[int, bytes]], bss: int = 0) -> bytes:
    phnum = len(segments) + (1 if bss else 0)
    header_size, ph_size = 52, 32
    offset = header_size + ph_size * phnum
    ehdr = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9) + struct.pack(
        "<HHIIIIIHHHHHH", 2, 40, 1, segments[0][0], header_size, 0, 0x05000400, header_size, ph_size, phnum, 40, 0, 0)
    phdrs, blobs = b"", b""
    for addr, data in segments:
        phdrs += struct.pack("<8I", 1, offset + len(blobs), addr, addr, len(data), len(data), 5, 4)
        blobs += data
    if bss:
        phdrs += struct.pack("<8I", 1, 0, 0x20000000, 0x20000000, 0, bss, 6, 4)
    return ehdr + phdrs + blobs
