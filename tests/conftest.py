"""Shared fixtures. Public data lives in ../shared/assets beside the repository (never copied in).
Plain helpers live in tests/_support.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from _support import ASSETS


@pytest.fixture
def assets_dir() -> Path:
    if not ASSETS.is_dir():
        pytest.skip(f"shared assets folder {ASSETS} is absent")
    return ASSETS
