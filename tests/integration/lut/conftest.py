"""Devices for the LUT integration tests: a real sshd on loopback (this venv's Python, which has
LiteRT, is the device's Python) and the emulated Cortex-M4 (QEMU). The lut/predictor/predict
commands are run through edgekit's real entry point with their modules registered."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
COMMANDS = ("edgekit.cli.lut:LutCommand", "edgekit.cli.predictor:PredictorCommand", "edgekit.cli.predict:PredictCommand")


def _load(name: str, path: Path):  # noqa: ANN202
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


@pytest.fixture
def edgekit_cli(monkeypatch, capsys):  # noqa: ANN001, ANN201
    """run(*argv) -> (exit code, stdout) through edgekit.cli.main with the LUT commands registered."""
    import edgekit.cli.main as main

    missing = [c for c in COMMANDS if c not in main._COMMANDS]
    monkeypatch.setattr(main, "_COMMANDS", main._COMMANDS + tuple(missing))

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main.main([str(a) for a in argv])
        return code, capsys.readouterr().out

    return run


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):  # noqa: ANN001, ANN201
    sshd_local = _load("sshd_local", REPO / "scripts" / "sshd_local.py")
    if not Path(sshd_local.SSHD).exists():
        pytest.skip("openssh-server is not installed (/usr/sbin/sshd missing)")
    handle = sshd_local.start_sshd(tmp_path_factory.mktemp("sshd"))
    yield handle
    handle.stop()


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
