"""pyOCD flashing without a board: the API call sequence against a stand-in module, and a clear
error when pyOCD is not installed. The real path needs a board (marked hardware)."""

from __future__ import annotations

import os
import sys
import types

import pytest

from edgekit.core.errors import DeviceError, ToolMissingError
from edgekit.core.profile import load_profile
from edgekit.flashers.boards import RealBoardSession
from edgekit.flashers.pyocd import PyocdFlasher

from .elf_helpers import make_elf

SEGMENTS = [(0x08000000, bytes(range(64))), (0x08000400, b"rodata!!")]


class FakeTarget:
    def __init__(self, memory: dict[int, bytes], calls: list) -> None:
        self.memory, self.calls = memory, calls

    def read_memory_block8(self, addr: int, n: int) -> list[int]:
        self.calls.append(("read", addr, n))
        for base, data in self.memory.items():
            if base <= addr < base + len(data):
                return list(data[addr - base:addr - base + n])
        return [0xFF] * n

    def reset(self) -> None:
        self.calls.append(("reset",))


def install_fake_pyocd(monkeypatch, calls: list, flash_ok: bool = True, probe: bool = True) -> None:
    memory: dict[int, bytes] = {}

    class Session:
        def __init__(self) -> None:
            self.target = FakeTarget(memory, calls)

        def __enter__(self):
            calls.append(("open",))
            return self

        def __exit__(self, *exc):
            calls.append(("close",))

    class ConnectHelper:
        @staticmethod
        def session_with_chosen_probe(**kwargs):
            calls.append(("connect", kwargs["unique_id"], kwargs["target_override"]))
            return Session() if probe else None

    class FileProgrammer:
        def __init__(self, session) -> None:
            self.session = session

        def program(self, path: str, file_format: str) -> None:
            calls.append(("program", os.path.basename(path), file_format))
            for addr, data in SEGMENTS:
                memory[addr] = data if flash_ok else bytes(len(data))

    helpers = types.ModuleType("pyocd.core.helpers")
    helpers.ConnectHelper = ConnectHelper
    fp = types.ModuleType("pyocd.flash.file_programmer")
    fp.FileProgrammer = FileProgrammer
    for name, mod in (("pyocd", types.ModuleType("pyocd")), ("pyocd.core", types.ModuleType("pyocd.core")),
                      ("pyocd.core.helpers", helpers), ("pyocd.flash", types.ModuleType("pyocd.flash")),
                      ("pyocd.flash.file_programmer", fp)):
        monkeypatch.setitem(sys.modules, name, mod)


@pytest.fixture
def image(tmp_path):
    p = tmp_path / "firmware.elf"
    p.write_bytes(make_elf(SEGMENTS, bss=1024))
    return p


def test_program_verify_reset_sequence(monkeypatch, image):
    calls: list = []
    install_fake_pyocd(monkeypatch, calls)
    session = PyocdFlasher(load_profile("nucleo-l4r5zi")).start(image)
    assert isinstance(session, RealBoardSession)
    assert calls == [("connect", None, "stm32l4r5zitx"), ("open",), ("program", "firmware.elf", "elf"),
                     ("read", 0x08000000, 64), ("read", 0x08000400, 8), ("reset",), ("close",)]


def test_verify_failure_is_reported(monkeypatch, image):
    install_fake_pyocd(monkeypatch, [], flash_ok=False)
    with pytest.raises(DeviceError, match="flash verify failed .* at 0x08000001"):
        PyocdFlasher(load_profile("stm32f746g-disco")).start(image)


def test_no_probe(monkeypatch, image):
    install_fake_pyocd(monkeypatch, [], probe=False)
    with pytest.raises(DeviceError, match="pyOCD found no debug probe for nrf52840dk"):
        PyocdFlasher(load_profile("nrf52840dk")).start(image)


def test_missing_pyocd_names_the_extra(monkeypatch, image):
    monkeypatch.setitem(sys.modules, "pyocd", None)   # import fails as if not installed
    monkeypatch.setitem(sys.modules, "pyocd.core.helpers", None)
    with pytest.raises(ToolMissingError) as e:
        PyocdFlasher(load_profile("nucleo-l4r5zi")).start(image)
    assert "edgekit[hardware]" in e.value.hint


@pytest.mark.hardware
def test_flash_a_real_board():
    pytest.skip("needs a NUCLEO-L4R5ZI, STM32F746G-DISCO or nRF52840-DK on a debug probe; none is attached here")
