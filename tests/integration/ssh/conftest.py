"""A real sshd on 127.0.0.1 (own host key, own authorized key, free port) for the SSH tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MLPERF = ("kws_ref_model_int8", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8")


def _load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


sshd_local = _load("sshd_local", REPO / "scripts" / "sshd_local.py")
root_conftest = _load("edgekit_tests_root_conftest", REPO / "tests" / "conftest.py")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    if not Path(sshd_local.SSHD).exists():
        pytest.skip("openssh-server is not installed (/usr/sbin/sshd missing)")
    handle = sshd_local.start_sshd(tmp_path_factory.mktemp("sshd"))
    yield handle
    handle.stop()


@pytest.fixture
def profile_path(sshd, tmp_path):
    """A device profile for the loopback sshd; the device's python is this venv's (it has LiteRT)."""
    p = tmp_path / "loopback.toml"
    p.write_text(sshd.profile_toml(python=sys.executable, workdir=str(tmp_path / "device workdir")))
    return p


@pytest.fixture(scope="session")
def mlperf_models():
    paths = [root_conftest.ASSETS / "models" / "mlperf_tiny" / f"{m}.tflite" for m in MLPERF]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"MLPerf Tiny models {', '.join(missing)} not found under {root_conftest.ASSETS}")
    return paths
