"""scikit-learn's 8x8 handwritten digits (1797 images, shipped inside the package, no download).

A tiny image set for tests and demos of the image pipeline: (N, 8, 8, 1) float32 in [0, 1]
("nhwc", as TFLite and Keras see images) or (N, 1, 8, 8) ("nchw", as PyTorch does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from edgekit.core.errors import UsageError
from edgekit.datasets.splits import Split, check_fractions, stratified_assignment

Layout = Literal["nhwc", "nchw"]
NUM_CLASSES = 10
_MAX_PIXEL = 16.0   # load_digits pixels are counts 0..16


@dataclass(frozen=True)
class DigitsData:
    train: Split
    val: Split
    test: Split
    class_names: tuple[str, ...]
    layout: str


def load_digits(layout: Layout = "nhwc", val_fraction: float = 0.1, test_fraction: float = 0.2,
                seed: int = 0) -> DigitsData:
    """Stratified, deterministic split (same seed and fractions, same images in each part)."""
    if layout not in ("nhwc", "nchw"):
        raise UsageError(f"unknown layout {layout!r}", "use 'nhwc' or 'nchw'")
    check_fractions(val_fraction, test_fraction)
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    images = (np.asarray(bunch.images, dtype=np.float32) / _MAX_PIXEL)[:, :, :, None]
    if layout == "nchw":
        images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    labels = np.asarray(bunch.target, dtype=np.int64)
    assignment = stratified_assignment(labels, val_fraction, test_fraction, seed)
    train, val, test = (Split(images[assignment == k], labels[assignment == k]) for k in range(3))
    return DigitsData(train=train, val=val, test=test,
                      class_names=tuple(str(d) for d in range(NUM_CLASSES)), layout=layout)
