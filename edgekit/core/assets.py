"""Where the public benchmark assets (MLPerf Tiny models, HAR CSVs) live on this machine.

The assets are never copied into the repository. They are found, in order, at
``$EDGEKIT_ASSETS`` (the same variable the test suite reads) or at ``../shared/assets`` next to the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

ASSETS_ENV = "EDGEKIT_ASSETS"

# edgekit/core/assets.py -> parents[2] is the checkout; its parent holds shared/.
_CHECKOUT_SIBLING = Path(__file__).resolve().parents[3] / "shared" / "assets"


def assets_dir() -> Path:
    """The assets root (it may not exist: callers raise InputFileError naming what they need)."""
    env = os.environ.get(ASSETS_ENV)
    return Path(env) if env else _CHECKOUT_SIBLING
