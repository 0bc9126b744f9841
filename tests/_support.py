"""Helpers shared by test modules. Import as `from _support import asset` (tests/ is on sys.path
through the root conftest); never `from conftest import ...`, which resolves to whichever
conftest.py was imported last."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.core.assets import assets_dir as _assets_root

REPO = Path(__file__).resolve().parents[1]
ASSETS = _assets_root()


def load_module(name: str, path: Path):  # noqa: ANN201
    """A module from a file outside any package (a script, a fakes file), loaded once under
    ``name`` and registered in sys.modules (dataclasses in it look their module up there)."""
    import importlib.util
    import sys

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


def asset(rel: str) -> Path:
    """Path to a file under ../shared/assets; skips the test with a reason when it is absent."""
    p = ASSETS / rel
    if not p.exists():
        pytest.skip(f"shared asset {rel} not found under {ASSETS} (set EDGEKIT_ASSETS or place ../shared beside the repo)")
    return p


def asset_model(rel: str) -> Path:
    """A model under ../shared/assets/models (e.g. 'mlperf_tiny/kws_ref_model_int8.tflite')."""
    return asset(f"models/{rel}")


def load_slack(cap: float = 8.0) -> float:
    """How many times longer than on an idle machine a step may take now: the recent load per
    core, at least 1 (CI has 2 cores and runs two test workers plus QEMU). Tests that exercise
    time limits on purpose (retransmission after a lost frame, boot timeouts) scale them by
    this, so that a loaded machine is not mistaken for a faulty link."""
    import os

    cores = os.cpu_count() or 1
    return float(min(cap, max(1.0, max(os.getloadavg()[:2]) / cores * 1.5)))
