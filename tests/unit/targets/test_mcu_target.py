"""Firmware target, without building: ELF size parsing, the fit checks, and that every mcu device
profile agrees with its board port (core, FPU, clock, timer, memory map) — devices are data, and
the data must match the C that runs on them."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from edgekit.core.errors import InputFileError, ResourceLimitError
from edgekit.core.profile import load_all, load_profile
from edgekit.measure.mcu_session import bank_region
from edgekit.targets.mcu import (FirmwareImage, check_fits, firmware_root, layer_slots, library_name,
                                 memory_from_sections, parse_size_sysv, precheck_fits)

REPO = Path(__file__).resolve().parents[3]
FIXTURE = REPO / "tests" / "fixtures" / "mcu_tinymlp"

# `arm-none-eabi-size -A` of kws_ref_model_int8 firmware for mps2-an386 (per-layer build)
SIZE_OUTPUT = """firmware.elf  :
section             size        addr
.vectors              64           0
.text               9756          64
.rodata            31532        9824
.stack             16384   536870912
.data                  0   536887296
.bss               18288   536887296
.ARM.attributes       50           0
.debug_info       151103           0
Total             227177
"""


def test_parse_size_and_classify():
    sections = parse_size_sysv(SIZE_OUTPUT)
    assert sections[".text"] == 9756 and sections[".debug_info"] == 151103
    m = memory_from_sections(sections)
    assert m.flash_bytes == 64 + 9756 + 31532 + 0
    assert m.ram_bytes == 0 + 18288 + 16384
    assert (m.data_bytes, m.bss_bytes, m.stack_bytes) == (0, 18288, 16384)
    assert ".debug_info" not in m.sections


def image(flash: int, bss: int) -> FirmwareImage:
    m = memory_from_sections({".vectors": 64, ".text": flash - 64, ".bss": bss, ".stack": 16384})
    return FirmwareImage(Path("fw.elf"), "0" * 16, "mps2-an386", "big", False, "portable", m, None)


def test_fit_checks_name_the_numbers():
    p = replace(load_profile("qemu-m4"), ram_bytes=40_000, flash_bytes=50_000)
    check_fits(p, image(49_000, 20_000), 490)
    with pytest.raises(ResourceLimitError, match=r"needs 51,000 bytes .* of flash .* has 50,000 bytes"):
        check_fits(p, image(51_000, 1000), 0)
    with pytest.raises(ResourceLimitError, match=r"needs 40,874 bytes .* of RAM .*bss 24,000 \+ stack 16,384 "
                                                 r"\+ staged inputs 490\); qemu-m4 has 40,000 bytes"):
        check_fits(p, image(1000, 24_000), 490)
    with pytest.raises(ResourceLimitError, match=r"at least 36,874 bytes .* of RAM \(arena 20,000"):
        precheck_fits(replace(p, ram_bytes=30_000), "big", 1000, 20_000, 490)
    with pytest.raises(ResourceLimitError, match="for its weights"):
        precheck_fits(p, "big", 60_000, 100, 0)


def test_library_name_and_layer_slots(tmp_path):
    assert library_name(FIXTURE) == "tinymlp"
    assert layer_slots(FIXTURE) == 2
    with pytest.raises(InputFileError, match="no generated model library"):
        library_name(tmp_path)


def _board_file(board: str, name: str) -> str:
    return (firmware_root() / "boards" / board / name).read_text()


def _define(text: str, name: str) -> str:
    m = re.search(rf"#define {name} (\S+)", text)
    assert m, name
    return m.group(1).rstrip("u")


def _number(text: str) -> int:
    text = text.strip()
    mult = {"K": 1024, "M": 1024 * 1024}.get(text[-1], 1)
    return int(text.rstrip("KM"), 0) * mult


MCU_PROFILES = [p for p in load_all() if p.kind == "mcu"]


@pytest.mark.parametrize("profile", MCU_PROFILES, ids=lambda p: p.id)
def test_profile_matches_its_board_port(profile):
    board = profile.firmware["board"]
    mk = dict(re.findall(r"^(\w+) \?= (\S+)$", _board_file(board, "board.mk"), re.M))
    fw = profile.firmware
    assert mk["MCPU"] == fw["mcpu"] and mk["FLOAT_ABI"] == fw["float_abi"]
    assert mk["FPU"] == fw.get("fpu", mk["FPU"]) and int(mk["STACK_BYTES"]) == fw["stack_bytes"]
    h = _board_file(board, "board.h")
    assert _define(h, "EK_BOARD_NAME").strip('"') == board
    assert int(_define(h, "EK_CORE_CLOCK_HZ")) == profile.clock_hz
    assert (_define(h, "EK_TIMER_DWT") == "1") == (profile.timing == "dwt-cyccnt")
    assert (_define(h, "EK_HAS_SEMIHOSTING") == "1") == profile.emulated
    ld = _board_file(board, "memory.ld")
    regions = {m.group(1): (_number(m.group(2)), _number(m.group(3)))
               for m in re.finditer(r"(\w+) \(\w+\) : ORIGIN = (\w+), LENGTH = (\w+)", ld)}
    assert regions["CODE"][0] == fw["code_base"] and regions["RAM"][0] == fw["ram_base"]
    assert profile.flash_bytes <= regions["CODE"][1] and profile.ram_bytes <= regions["RAM"][1]


def test_bank_regions_lie_outside_the_ram_budget():
    for p in MCU_PROFILES:
        base, size = bank_region(firmware_root() / "boards" / p.firmware["board"] / "board.h")
        if p.emulated:
            assert size >= 1 << 20
            assert base >= p.firmware["ram_base"] + p.ram_bytes or base + size <= p.firmware["ram_base"]
        else:
            assert (base, size) == (0, 0)
