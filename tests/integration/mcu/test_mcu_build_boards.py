"""Every board port compiles (the real-board ports are only compiled here: no silicon), with the
hand-written fixture library and with a generated library, and `make host` builds the reference."""

from __future__ import annotations

import subprocess

import pytest

from edgekit.core.profile import load_all, load_profile
from edgekit.targets.mcu import FirmwareOptions, build_firmware, build_host_runner, check_fits

from .conftest import FIXTURE_LIB

pytestmark = pytest.mark.integration
MCU = [p.id for p in load_all() if p.kind == "mcu"]


@pytest.mark.parametrize("device", MCU)
def test_board_builds_with_per_layer_hooks(device, tmp_path):
    profile = load_profile(device)
    image = build_firmware(profile, FIXTURE_LIB, "tinymlp", tmp_path / "fw", FirmwareOptions(per_layer=True, max_layers=2))
    m = image.memory
    assert image.elf.is_file() and len(image.build_id) == 16
    assert m.stack_bytes == profile.firmware["stack_bytes"]
    assert 5_000 < m.flash_bytes < 20_000        # harness + 5 KB of fixture weights
    check_fits(profile, image, 64)
    text = subprocess.run(["arm-none-eabi-nm", str(image.elf)], capture_output=True, text=True, check=True).stdout
    assert " ek_layer_marks" in text and " tinymlp_invoke" in text
    if not profile.emulated:   # the real-board ports time with the DWT cycle counter
        dis = subprocess.run(["arm-none-eabi-objdump", "-d", str(image.elf)], capture_output=True, text=True).stdout
        assert "e0001004" in dis.lower() or "0xe0001004" in dis.lower() or "e0001000" in dis.lower()


def test_build_id_follows_the_sources(tmp_path):
    p = load_profile("qemu-m4")
    a = build_firmware(p, FIXTURE_LIB, "tinymlp", tmp_path / "a")
    b = build_firmware(p, FIXTURE_LIB, "tinymlp", tmp_path / "b")
    c = build_firmware(p, FIXTURE_LIB, "tinymlp", tmp_path / "c", FirmwareOptions(per_layer=True, max_layers=2))
    assert a.build_id == b.build_id != c.build_id


def test_host_build_of_the_same_library(tmp_path):
    runner = build_host_runner(FIXTURE_LIB, "tinymlp", tmp_path / "host")
    info = subprocess.run([str(runner), "--info"], capture_output=True, text=True, check=True).stdout
    assert info.splitlines() == ["model tinymlp", "inputs 64", "outputs 16", "arena 128"]
    out = subprocess.run([str(runner), "2"], input=bytes(128), capture_output=True, check=True).stdout
    assert len(out) == 32 and out[:16] == out[16:]
