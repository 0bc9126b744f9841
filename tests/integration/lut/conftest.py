"""Devices for the LUT integration tests: a real sshd on loopback (this venv's Python, which has
LiteRT, is the device's Python) and the emulated Cortex-M4 (QEMU). The lut/predictor/predict
commands are run through edgekit's real entry point."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def edgekit_cli(capsys):  # noqa: ANN001, ANN201
    """run(*argv) -> (exit code, stdout) through edgekit.cli.main, in this process."""
    import edgekit.cli.main as main

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main.main([str(a) for a in argv])
        return code, capsys.readouterr().out

    return run


@pytest.fixture
def ssh_profile(sshd, tmp_path):  # noqa: ANN001, ANN201
    p = tmp_path / "profiles" / "loopback.toml"
    p.parent.mkdir()
    p.write_text(sshd.profile_toml(python=sys.executable, workdir=str(tmp_path / "device")))
    return p


@pytest.fixture(scope="session")
def qemu_tools():  # noqa: ANN201
    missing = [t for t in ("qemu-system-arm", "arm-none-eabi-gcc", "make") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install qemu-system-arm gcc-arm-none-eabi)")
