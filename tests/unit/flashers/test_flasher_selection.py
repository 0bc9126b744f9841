"""Flashers come from the profile's [flash] method (a table), and the QEMU command line has what
the measurements rely on: icount, the nodelay socket on 127.0.0.1, semihosting, preloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.core.errors import DeviceError, ProfileError, ToolMissingError
from edgekit.core.profile import load_profile
from edgekit.flashers import qemu as qemu_mod
from edgekit.flashers.base import Preload, flasher_for
from edgekit.flashers.openocd import OpenocdFlasher
from edgekit.flashers.pyocd import PyocdFlasher
from edgekit.flashers.qemu import QemuFlasher


def test_method_table():
    assert isinstance(flasher_for(load_profile("qemu-m4")), QemuFlasher)
    assert isinstance(flasher_for(load_profile("nucleo-l4r5zi")), PyocdFlasher)
    with pytest.raises(ProfileError, match="not a microcontroller"):
        flasher_for(load_profile("rpi4"))


@pytest.mark.parametrize("device,machine", [("qemu-m4", "mps2-an386"), ("qemu-m7", "mps2-an500"),
                                            ("qemu-m33", "mps2-an505"), ("qemu-m55", "mps3-an547")])
def test_qemu_argv(device, machine, tmp_path):
    argv = QemuFlasher(load_profile(device)).argv(Path("/x/fw.elf"), 4567, [Preload(tmp_path / "in.bin", 0x21000000)])
    joined = " ".join(argv)
    assert argv[:3] == ["qemu-system-arm", "-M", machine]
    assert "-icount shift=0" in joined
    assert "-semihosting-config enable=on,target=native" in joined
    assert "socket,id=ek0,host=127.0.0.1,port=4567,server=on,wait=on,nodelay=on" in joined
    assert "-serial chardev:ek0" in joined and "-monitor none" in joined and "-kernel /x/fw.elf" in joined
    assert f"loader,file={tmp_path / 'in.bin'},addr=0x21000000,force-raw=on" in joined


def test_qemu_missing_or_bad_image(tmp_path, monkeypatch):
    f = QemuFlasher(load_profile("qemu-m4"))
    with pytest.raises(DeviceError, match="does not exist"):
        f.start(tmp_path / "nope.elf")
    img = tmp_path / "fw.elf"
    img.write_bytes(b"\x7fELF")
    monkeypatch.setattr(qemu_mod.shutil, "which", lambda name: None)
    with pytest.raises(ToolMissingError, match="qemu-system-arm is not installed"):
        f.start(img)
    assert qemu_mod.live_pids() == []


def test_real_board_flashers_refuse_preloads(tmp_path):
    img = tmp_path / "fw.elf"
    img.write_bytes(b"x")
    with pytest.raises(DeviceError, match="cannot preload"):
        PyocdFlasher(load_profile("nucleo-l4r5zi")).start(img, [Preload(img, 0)])


def test_openocd_profile_checks(tmp_path):
    p = load_profile("nucleo-l4r5zi")
    bad = type(p)(**{**p.__dict__, "flash": {"method": "openocd", "openocd_command": ["openocd", "-c", "program x"]}})
    with pytest.raises(ProfileError, match="never mentions"):
        OpenocdFlasher(bad)
