"""OpenOCD flashing without a board: a stand-in `openocd` on PATH records its arguments."""

from __future__ import annotations

import os
import stat
from dataclasses import replace

import pytest

from edgekit.core.errors import DeviceError, ToolMissingError
from edgekit.core.profile import load_profile
from edgekit.flashers.base import flasher_for
from edgekit.flashers.boards import RealBoardSession

TEMPLATE = ["openocd", "-f", "board/st_nucleo_l4.cfg", "-c", "program {image} verify reset exit"]


def profile():
    p = load_profile("nucleo-l4r5zi")
    return replace(p, flash={"method": "openocd", "openocd_command": TEMPLATE})


def fake_openocd(tmp_path, status: int) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "openocd"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {tmp_path}/argv.txt\n"
                      f"[ {status} -eq 0 ] || echo 'Error: timed out while waiting for target halted' >&2\nexit {status}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_command_template_is_filled(tmp_path, monkeypatch):
    fake_openocd(tmp_path, 0)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    img = tmp_path / "fw.elf"
    img.write_bytes(b"\x7fELF")
    session = flasher_for(profile()).start(img)
    assert isinstance(session, RealBoardSession)
    assert (tmp_path / "argv.txt").read_text().splitlines() == [
        "-f", "board/st_nucleo_l4.cfg", "-c", f"program {img} verify reset exit"]


def test_failure_names_the_error_line(tmp_path, monkeypatch):
    fake_openocd(tmp_path, 1)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    img = tmp_path / "fw.elf"
    img.write_bytes(b"\x7fELF")
    with pytest.raises(DeviceError, match="status 1: Error: timed out while waiting for target halted"):
        flasher_for(profile()).start(img)


def test_missing_openocd(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    img = tmp_path / "fw.elf"
    img.write_bytes(b"\x7fELF")
    with pytest.raises(ToolMissingError, match="openocd is not installed"):
        flasher_for(profile()).start(img)


@pytest.mark.hardware
def test_openocd_on_a_real_board():
    pytest.skip("needs a board on a debug probe and openocd; none is attached here")
