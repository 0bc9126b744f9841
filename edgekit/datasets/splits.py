"""Train/validation/test splits shared by the dataset loaders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgekit.core.errors import UsageError


@dataclass(frozen=True)
class Split:
    x: np.ndarray   # float32, samples first
    y: np.ndarray   # int64 class indices, shape (N,)

    def __len__(self) -> int:
        return int(self.y.shape[0])


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    if not (0.0 <= val_fraction < 1.0 and 0.0 < test_fraction < 1.0
            and val_fraction + test_fraction < 1.0):
        raise UsageError(
            f"val_fraction={val_fraction} and test_fraction={test_fraction} do not leave a training set",
            "use 0 <= val_fraction, 0 < test_fraction and val_fraction + test_fraction < 1")


def stratified_assignment(labels: Sequence[int], val_fraction: float, test_fraction: float,
                          seed: int) -> np.ndarray:
    """Assign each item (a recording, an image) to 0=train, 1=val, 2=test, class by class.

    Items are shuffled with ``seed`` inside each class, so the split depends only on the item
    order given, the fractions and the seed. Each class keeps at least one item in train and
    test (and in val when val_fraction > 0) when it has enough items.
    """
    check_fractions(val_fraction, test_fraction)
    labels_arr = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    assignment = np.zeros(labels_arr.shape[0], dtype=np.int64)
    for cls in np.unique(labels_arr):
        members = np.flatnonzero(labels_arr == cls)
        members = members[rng.permutation(members.shape[0])]
        n = members.shape[0]
        n_test = min(max(1, round(n * test_fraction)), max(n - 1, 0))
        n_val = round(n * val_fraction)
        if val_fraction > 0:
            n_val = max(1, n_val)
        n_val = min(n_val, max(n - n_test - 1, 0))
        assignment[members[:n_test]] = 2
        assignment[members[n_test:n_test + n_val]] = 1
    return assignment
