from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def har_dir(assets_dir: Path) -> Path:
    d = assets_dir / "datasets" / "stm32ai_har"
    if not d.is_dir():
        pytest.skip(f"HAR dataset not found under {d}")
    return d


@pytest.fixture
def synthetic_har(tmp_path: Path) -> Path:
    """A HAR-shaped folder: 4 recordings per class of 100 (x, y, z) mg rows; row i of recording
    r of class c holds (1000 c + 100 r + i, -i, 7)."""
    for c, name in enumerate(("stationary", "walking", "running")):
        (tmp_path / name).mkdir()
        for r in range(4):
            i = np.arange(100)
            rows = np.stack([1000 * c + 100 * r + i, -i, np.full(100, 7)], axis=1)
            np.savetxt(tmp_path / name / f"{name}_{r:02d}_26Hz_4g_mg.csv", rows, fmt="%d", delimiter=", ")
    return tmp_path
