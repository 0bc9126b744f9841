"""Data for a search: train / validation / test arrays in the model's layout, per input resolution.

- ``har``: the ST accelerometer windows (edgekit.datasets.har), one windowing per window length
  (the resolution of a 1-D candidate is its window length: a device feeds it that many samples).
- ``digits``: scikit-learn's 8x8 digits; other sides are bilinear resizes of the 8x8 images.
- a ``.npz`` file with ``x_train, y_train, x_test, y_test`` (and optionally ``x_val, y_val``):
  x is (N, T, C) for sensor windows or (N, H, W, C) for square images, channels last; y holds
  integer class labels. Its only resolution is its own.

Every array is float32 in NCHW ((N, C, T, 1) for windows); labels are int64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgekit.core.errors import InputFileError, UsageError

BUILTIN = ("har", "digits")


@dataclass(frozen=True)
class TaskData:
    resolution: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass
class DataSource:
    """What the search needs to know of a data set; ``at(resolution)`` gives the arrays."""

    name: str
    dims: str                       # "1d" | "2d"
    in_channels: int
    num_classes: int
    native_resolution: int
    fixed_resolution: bool          # True: only native_resolution exists
    spec: str                       # what the user passed (recorded in the search config)
    _loader: Any = field(repr=False, default=None)
    _cache: dict[int, TaskData] = field(default_factory=dict, repr=False)

    def at(self, resolution: int) -> TaskData:
        if resolution not in self._cache:
            if self.fixed_resolution and resolution != self.native_resolution:
                raise UsageError(f"data {self.name} has only resolution {self.native_resolution}, "
                                 f"not {resolution}", "use a space whose resolutions match the data")
            self._cache[resolution] = self._loader(resolution)
        return self._cache[resolution]


def _nchw_windows(x: np.ndarray) -> np.ndarray:
    """(N, T, C) -> (N, C, T, 1)."""
    return np.ascontiguousarray(x.transpose(0, 2, 1)[:, :, :, None]).astype(np.float32)


def _har(path: str | None) -> DataSource:
    from edgekit.datasets.har import CLASS_NAMES, DEFAULT_WINDOW_LEN, load_har

    def load(resolution: int) -> TaskData:
        d = load_har(path, window_len=resolution, stride=max(1, resolution // 2))
        return TaskData(resolution, _nchw_windows(d.train.x), d.train.y, _nchw_windows(d.val.x), d.val.y,
                        _nchw_windows(d.test.x), d.test.y)

    src = DataSource("har", "1d", 3, len(CLASS_NAMES), DEFAULT_WINDOW_LEN, False, "har" if path is None else f"har:{path}",
                     load)
    src.at(DEFAULT_WINDOW_LEN)   # fail now, with the loader's message, when the files are missing
    return src


def _digits() -> DataSource:
    from edgekit.datasets.digits import NUM_CLASSES, load_digits

    d = load_digits(layout="nchw")

    def load(resolution: int) -> TaskData:
        def resize(x: np.ndarray) -> np.ndarray:
            if resolution == 8:
                return x.astype(np.float32)
            import torch
            import torch.nn.functional as F
            t = F.interpolate(torch.from_numpy(x), size=(resolution, resolution), mode="bilinear",
                              align_corners=False)
            return t.numpy().astype(np.float32)
        return TaskData(resolution, resize(d.train.x), d.train.y, resize(d.val.x), d.val.y, resize(d.test.x), d.test.y)

    return DataSource("digits", "2d", 1, NUM_CLASSES, 8, False, "digits", load)


def _npz(path: Path) -> DataSource:
    if not path.is_file():
        raise InputFileError(f"data file {path} does not exist", "give har, digits or an .npz file")
    try:
        z = dict(np.load(path, allow_pickle=False))
    except (OSError, ValueError) as e:
        raise InputFileError(f"{path} is not a readable .npz file: {e}",
                             "save it with numpy.savez(x_train=..., y_train=..., x_test=..., y_test=...)") from None
    hint = "arrays x_train, y_train, x_test, y_test (optional x_val, y_val); x (N, T, C) or (N, H, W, C)"
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in z]
    if missing:
        raise InputFileError(f"{path} lacks array(s) {', '.join(missing)}", hint)
    parts = ["train", "test"] + (["val"] if "x_val" in z else [])
    x0 = z["x_train"]
    if x0.ndim not in (3, 4):
        raise InputFileError(f"{path}: x_train has shape {x0.shape}; expected (N, T, C) or (N, H, W, C)", hint)
    for p in parts:
        x, y = z[f"x_{p}"], z.get(f"y_{p}")
        if y is None:
            raise InputFileError(f"{path} has x_{p} but no y_{p}", hint)
        if x.shape[1:] != x0.shape[1:]:
            raise InputFileError(f"{path}: x_{p} samples are {x.shape[1:]}, x_train samples {x0.shape[1:]}", hint)
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise InputFileError(f"{path}: y_{p} has shape {y.shape}, expected ({x.shape[0]},)", hint)
        if not np.issubdtype(y.dtype, np.integer) or (y.size and y.min() < 0):
            raise InputFileError(f"{path}: y_{p} must hold non-negative integer class labels", hint)
    if x0.ndim == 4 and x0.shape[1] != x0.shape[2]:
        raise InputFileError(f"{path}: images are {x0.shape[1]}x{x0.shape[2]}; the search space needs square images",
                             "crop or pad the images to a square")
    num_classes = int(max(int(z[f"y_{p}"].max()) for p in parts if z[f"y_{p}"].size)) + 1
    if num_classes < 2:
        raise InputFileError(f"{path}: the labels hold fewer than two classes", hint)

    def nchw(x: np.ndarray) -> np.ndarray:
        if x.ndim == 3:
            return _nchw_windows(x)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32)

    def load(resolution: int) -> TaskData:
        xt, yt = z["x_train"], z["y_train"].astype(np.int64)
        if "x_val" in z:
            xv, yv = z["x_val"], z["y_val"].astype(np.int64)
        else:   # hold out 15 % of the training samples (fixed permutation): never select on the test set
            order = np.random.default_rng(0).permutation(len(yt))
            n_val = max(1, len(yt) * 15 // 100)
            xv, yv, xt, yt = xt[order[:n_val]], yt[order[:n_val]], xt[order[n_val:]], yt[order[n_val:]]
        return TaskData(resolution, nchw(xt), yt, nchw(xv), yv, nchw(z["x_test"]), z["y_test"].astype(np.int64))

    dims = "1d" if x0.ndim == 3 else "2d"
    return DataSource(path.stem, dims, int(x0.shape[-1]), num_classes, int(x0.shape[1]), True, str(path), load)


def open_data(spec: str) -> DataSource:
    """``har`` | ``har:FOLDER`` | ``digits`` | ``FILE.npz``."""
    if spec == "har" or spec.startswith("har:"):
        return _har(spec[4:] or None if spec.startswith("har:") else None)
    if spec == "digits":
        return _digits()
    if spec.endswith(".npz"):
        return _npz(Path(spec))
    raise UsageError(f"unknown data {spec!r}", "use har, har:FOLDER, digits or a .npz file")
