"""Shared fixtures. Public data lives in ../shared/assets beside the repository (never copied in)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.core.assets import assets_dir as _assets_root

REPO = Path(__file__).resolve().parents[1]
ASSETS = _assets_root()


def asset(rel: str) -> Path:
    """Path to a file under ../shared/assets; skips the test with a reason when it is absent."""
    p = ASSETS / rel
    if not p.exists():
        pytest.skip(f"shared asset {rel} not found under {ASSETS} (set EDGEKIT_ASSETS or place ../shared beside the repo)")
    return p


@pytest.fixture
def assets_dir() -> Path:
    if not ASSETS.is_dir():
        pytest.skip(f"shared assets folder {ASSETS} is absent")
    return ASSETS
