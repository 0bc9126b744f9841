from __future__ import annotations

import pytest

from edgekit.core.errors import InputFileError
from edgekit.flashers.elf import load_segments

from .elf_helpers import make_elf


def test_load_segments_skip_bss(tmp_path):
    p = tmp_path / "fw.elf"
    p.write_bytes(make_elf([(0x08000000, b"\x01\x02\x03\x04"), (0x08000100, b"data")], bss=64))
    segs = load_segments(p)
    assert [(s.address, s.data) for s in segs] == [(0x08000000, b"\x01\x02\x03\x04"), (0x08000100, b"data")]


def test_not_an_elf(tmp_path):
    p = tmp_path / "fw.bin"
    p.write_bytes(b"\x00" * 64)
    with pytest.raises(InputFileError, match="not a 32-bit little-endian ELF"):
        load_segments(p)
