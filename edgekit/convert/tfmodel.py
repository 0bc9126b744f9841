"""What every frontend hands to the quantizer: a static-shape TensorFlow SavedModel plus how its
inputs relate to the source model's own layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class InputSpec:
    name: str                         # the source model's input name
    model_shape: tuple[int, ...]      # in the source model's layout (PyTorch/ONNX: NCHW), batch 1
    perm: tuple[int, ...] | None      # axes permutation source layout -> TFLite layout; None = same

    @property
    def tflite_shape(self) -> tuple[int, ...]:
        if self.perm is None:
            return self.model_shape
        return tuple(self.model_shape[a] for a in self.perm)

    def to_tflite_layout(self, batch: np.ndarray) -> np.ndarray:
        """(N, *model_shape[1:]) in the source layout -> (N, *tflite_shape[1:])."""
        if self.perm is None:
            return np.ascontiguousarray(batch)
        return np.ascontiguousarray(np.transpose(batch, self.perm))


@dataclass(frozen=True)
class TFModel:
    saved_model_dir: Path
    inputs: tuple[InputSpec, ...]
    source_format: str                # "pytorch", "pytorch-export", "onnx", "keras", "saved-model"


def channels_last_perm(rank: int) -> tuple[int, ...]:
    """(0, 2, 3, ..., rank-1, 1): NCW -> NWC, NCHW -> NHWC, NCDHW -> NDHWC."""
    return (0, *range(2, rank), 1)
