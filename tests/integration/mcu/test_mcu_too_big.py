"""A model too big for a device profile is refused before anything is flashed, with the numbers:
before building when even its lower bounds do not fit, after building from the ELF otherwise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from _support import asset_model

from edgekit.core.errors import ResourceLimitError
from edgekit.core.profile import load_profile_file
from edgekit.flashers.qemu import QemuFlasher
from edgekit.measure.mcu_run import McuRunOptions, run_model

from .conftest import REPO

pytestmark = pytest.mark.integration
KWS = "mlperf_tiny/kws_ref_model_int8.tflite"


def variant(tmp_path: Path, name: str, **values: int) -> Path:
    text = (REPO / "device_profiles" / "qemu-m4.toml").read_text()
    for key, value in values.items():
        text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture
def never_flash(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the flasher was started for a model that does not fit")
    monkeypatch.setattr(QemuFlasher, "start", refuse)


@pytest.fixture
def kws():
    return asset_model(KWS)


@pytest.fixture(scope="module")
def bounds(tmp_path_factory):
    """Lower bounds of KWS on qemu-m4, from the code generator's plan."""
    kws = asset_model(KWS)
    from edgekit.core.profile import load_profile
    from edgekit.measure.mcu_inputs import prepare_model

    p = prepare_model(kws, tmp_path_factory.mktemp("bounds"), load_profile("qemu-m4"))
    return {"ram": p.arena_bytes + 16_384 + sum(p.input_bytes), "arena": p.arena_bytes, "weights": p.weights_bytes}


@pytest.mark.parametrize("key,offset,stage", [("ram", -1, "before"), ("ram", 100, "elf"),
                                              ("weights", -1, "before"), ("weights", 100, "elf")])
def test_refused_before_flashing(kws, bounds, tmp_path, never_flash, key, offset, stage):
    limit = bounds[key] + offset
    field = "ram_bytes" if key == "ram" else "flash_bytes"
    profile = load_profile_file(variant(tmp_path, "qemu-m4-small", **{field: limit}))
    if stage == "before" and key == "ram":
        pattern = (rf"needs at least {bounds['ram']:,} bytes .* of RAM \(arena {bounds['arena']:,} \+ stack 16,384 "
                   rf"\+ staged inputs 490\); qemu-m4-small has {limit:,} bytes")
    elif stage == "before":
        pattern = rf"needs at least {bounds['weights']:,} bytes .* of flash for its weights; qemu-m4-small has {limit:,}"
    elif key == "ram":
        pattern = (rf"firmware needs [\d,]+ bytes .* of RAM \(data \d+ \+ bss [\d,]+ \+ stack 16,384 \+ staged "
                   rf"inputs 490\); qemu-m4-small has {limit:,} bytes")
    else:
        pattern = rf"firmware needs [\d,]+ bytes .* of flash \(text [\d,]+ \+ rodata [\d,]+ \+ data \d+\); qemu-m4-small has {limit:,}"
    with pytest.raises(ResourceLimitError, match=pattern):
        run_model(kws, profile, McuRunOptions(count=1), work_dir=tmp_path / "work")
    built = (tmp_path / "work" / "fw-mps2-an386-portable" / "firmware.elf").is_file()
    assert built == (stage == "elf")


def test_cli_refusal_is_one_line_with_exit_code_12(kws, bounds, tmp_path):
    profile = variant(tmp_path, "qemu-m4-tiny", ram_bytes=bounds["ram"] - 1)
    proc = subprocess.run([sys.executable, "-m", "edgekit.cli.main", "run", str(kws), "--device", str(profile),
                           "--work-dir", str(tmp_path / "w"), "--no-trace", "--json"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 12 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: kws_ref_model_int8 needs at least") and "(hint:" in lines[0]
