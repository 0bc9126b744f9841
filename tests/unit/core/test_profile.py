from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edgekit.core.errors import ProfileError
from edgekit.core.profile import default_profiles_dir, list_profiles, load_all, load_profile, load_profile_file

REQUIRED_IDS = {"qemu-m4", "qemu-m7", "qemu-m33", "qemu-m55", "localhost-ssh", "rpi4", "rpi5",
                "android-arm64", "nucleo-l4r5zi", "stm32f746g-disco", "nrf52840dk"}

QEMU_M4 = (default_profiles_dir() / "qemu-m4.toml").read_text()


def _write(tmp_path: Path, text: str, name: str = "dev.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_every_shipped_profile_is_valid_and_the_required_ones_exist():
    profiles = load_all()
    assert REQUIRED_IDS <= {p.id for p in profiles}
    for p in profiles:
        assert p.id == p.path.stem
        assert p.ram_bytes > 0 and p.flash_bytes > 0


def test_real_boards_carry_datasheet_memory_and_clock():
    by_id = {p.id: p for p in load_all()}
    assert (by_id["nucleo-l4r5zi"].clock_hz, by_id["nucleo-l4r5zi"].ram_bytes, by_id["nucleo-l4r5zi"].flash_bytes) == (
        120_000_000, 640 * 1024, 2 * 1024 * 1024)
    assert (by_id["stm32f746g-disco"].clock_hz, by_id["stm32f746g-disco"].ram_bytes) == (216_000_000, 320 * 1024)
    assert (by_id["nrf52840dk"].clock_hz, by_id["nrf52840dk"].ram_bytes) == (64_000_000, 256 * 1024)
    for pid in ("nucleo-l4r5zi", "stm32f746g-disco", "nrf52840dk"):
        assert not by_id[pid].emulated and by_id[pid].timing == "dwt-cyccnt"
    for pid in ("qemu-m4", "qemu-m7", "qemu-m33", "qemu-m55"):
        assert by_id[pid].emulated and by_id[pid].timing == "qemu-icount"


def test_unknown_key_names_file_and_key(tmp_path):
    p = _write(tmp_path, QEMU_M4.replace('cpu = "cortex-m4"', 'cpu = "cortex-m4"\nram_kb = 4'))
    with pytest.raises(ProfileError) as e:
        load_profile_file(p)
    assert str(p) in e.value.message and "unknown key 'ram_kb'" in e.value.message


def test_unknown_key_in_section(tmp_path):
    p = _write(tmp_path, QEMU_M4.replace('baudrate = 115200', 'baudrate = 115200\nbaud = 9600'))
    with pytest.raises(ProfileError, match=r"\[transport\]: unknown key 'baud'"):
        load_profile_file(p)


def test_missing_required_key(tmp_path):
    p = _write(tmp_path, QEMU_M4.replace("ram_bytes = 4194304\n", ""))
    with pytest.raises(ProfileError, match="missing required key 'ram_bytes'"):
        load_profile_file(p)


def test_wrong_type_and_choice(tmp_path):
    with pytest.raises(ProfileError, match="'clock_hz' must be int"):
        load_profile_file(_write(tmp_path, QEMU_M4.replace("clock_hz = 25000000", 'clock_hz = "25 MHz"')))
    with pytest.raises(ProfileError, match="'kind' = 'fpga' is not one of"):
        load_profile_file(_write(tmp_path, QEMU_M4.replace('kind = "mcu"', 'kind = "fpga"')))


def test_emulated_device_cannot_claim_cycles(tmp_path):
    p = _write(tmp_path, QEMU_M4.replace('timing = "qemu-icount"', 'timing = "dwt-cyccnt"'))
    with pytest.raises(ProfileError, match="cannot report dwt-cyccnt"):
        load_profile_file(p)


def test_bad_toml_and_unknown_id(tmp_path):
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile_file(_write(tmp_path, "name = \n"))
    with pytest.raises(ProfileError, match="unknown device 'nope'") as e:
        load_profile("nope")
    assert "qemu-m4" in e.value.hint


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgekit.cli.main", *args], capture_output=True, text=True, timeout=120)


def test_cli_devices_list_json_and_check(tmp_path):
    import json

    r = _cli("devices", "list", "--json")
    assert r.returncode == 0, r.stderr
    ids = {row["id"] for row in json.loads(r.stdout)}
    assert ids == {p.stem for p in list_profiles()}
    r = _cli("devices", "check")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == len(ids) and all(l.startswith("ok ") for l in lines)


def test_cli_check_bad_profile_exits_nonzero_with_one_line(tmp_path):
    _write(tmp_path, QEMU_M4.replace("flash_bytes", "flash_kb"), "broken.toml")
    r = _cli("devices", "check", "--profiles", str(tmp_path))
    assert r.returncode == 4
    assert "FAIL broken" in r.stdout
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("error: 1 of 1 device profiles are invalid")
    assert "Traceback" not in r.stderr


def test_cli_show_unknown_device_one_line():
    r = _cli("devices", "show", "nope")
    assert r.returncode == 4 and r.stderr.startswith("error: unknown device 'nope'") and "Traceback" not in r.stderr
