"""Profiles and models for the SSH tests (the loopback sshd itself: tests/integration/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from _support import ASSETS

REPO = Path(__file__).resolve().parents[3]
MLPERF = ("kws_ref_model_int8", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8")


@pytest.fixture
def profile_path(sshd, tmp_path):
    """A device profile for the loopback sshd; the device's python is this venv's (it has LiteRT)."""
    p = tmp_path / "loopback.toml"
    p.write_text(sshd.profile_toml(python=sys.executable, workdir=str(tmp_path / "device workdir")))
    return p


@pytest.fixture(scope="session")
def mlperf_models():
    paths = [ASSETS / "models" / "mlperf_tiny" / f"{m}.tflite" for m in MLPERF]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"MLPerf Tiny models {', '.join(missing)} not found under {ASSETS}")
    return paths
