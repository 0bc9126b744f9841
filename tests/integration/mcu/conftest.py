"""Shared set-up of the microcontroller integration tests: tools present, one build cache for the
whole session, and no emulator left running after any test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from edgekit.flashers import qemu

REPO = Path(__file__).resolve().parents[3]
FIXTURE_LIB = REPO / "tests" / "fixtures" / "mcu_tinymlp"
QEMU_DEVICES = ("qemu-m4", "qemu-m7", "qemu-m33", "qemu-m55")


def pytest_collection_modifyitems(items):
    missing = [t for t in ("qemu-system-arm", "arm-none-eabi-gcc", "make") if shutil.which(t) is None]
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"{', '.join(missing)} not installed (apt-get install qemu-system-arm gcc-arm-none-eabi)")
    for item in items:
        if "integration/mcu" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def mcu_cache(tmp_path_factory) -> Path:
    """Builds are shared between tests (make is incremental); each (model, device) has its folder."""
    return tmp_path_factory.mktemp("mcu-cache")


def _qemu_children() -> list[int]:
    me, out = os.getpid(), []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        if ppid == me and comm.startswith("qemu-system"):
            out.append(int(d.name))
    return out


@pytest.fixture(autouse=True)
def no_emulator_left_running():
    yield
    assert qemu.live_pids() == [], "a QEMU session was not stopped"
    assert _qemu_children() == [], "a qemu-system-arm child process survived the test"
