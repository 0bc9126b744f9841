"""ST "Human activities" accelerometer dataset (STM32 AI wiki, BSD-3-Clause) as fixed windows.

One CSV per recording, ``x, y, z`` integers in mg from an LSM6DSL at 26 Hz, in folders named
after the class. Windows never cross recordings, and recordings (not windows) are split between
train, validation and test: overlapping windows of one recording on both sides of a split would
leak and inflate test accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from edgekit.core.errors import InputFileError, UsageError
from edgekit.core.assets import ASSETS_ENV, assets_dir
from edgekit.datasets.splits import Split, check_fractions, stratified_assignment

CLASS_NAMES: tuple[str, ...] = ("stationary", "walking", "running")
SAMPLE_RATE_HZ = 26
DEFAULT_WINDOW_LEN = 52   # 2 s: a few strides of walking or running in every window
AXES = 3
Normalization = Literal["g", "standard", "none"]
_NORMALIZATIONS = ("g", "standard", "none")
_MG_PER_G = 1000.0

_LAYOUT_HINT = ("pass path= a folder with stationary/, walking/ and running/ subfolders of *.csv "
                "(x,y,z in mg; ST 'Human activities dataset' from the STM32 AI wiki), "
                f"or set {ASSETS_ENV} to a folder holding datasets/stm32ai_har")


@dataclass(frozen=True)
class Recording:
    path: Path
    label: int
    samples_mg: np.ndarray   # float32, (n, 3)


@dataclass(frozen=True)
class HarData:
    """Windows of shape (N, window_len, 3), float32.

    A device reproduces the preprocessing on its window buffer of raw mg values: subtract the
    window's per-axis mean when ``centered``, then compute ``(value - offset_mg) / scale_mg``.
    """

    train: Split
    val: Split
    test: Split
    class_names: tuple[str, ...]
    sample_rate_hz: int
    window_len: int
    stride: int
    normalization: str
    centered: bool
    offset_mg: np.ndarray    # (3,) float32, what a device subtracts from raw mg
    scale_mg: np.ndarray     # (3,) float32, what it then divides by
    train_files: tuple[str, ...]   # recording paths relative to the dataset folder
    val_files: tuple[str, ...]
    test_files: tuple[str, ...]


def default_har_dir() -> Path:
    return assets_dir() / "datasets" / "stm32ai_har"


def read_recordings(path: str | Path | None = None) -> list[Recording]:
    """Every recording, class by class in CLASS_NAMES order, files sorted by name."""
    root = Path(path) if path is not None else default_har_dir()
    if not root.is_dir():
        raise InputFileError(f"HAR dataset folder {root} does not exist", _LAYOUT_HINT)
    recordings: list[Recording] = []
    for label, name in enumerate(CLASS_NAMES):
        files = sorted((root / name).glob("*.csv"))
        if not files:
            raise InputFileError(f"HAR dataset folder {root} has no {name}/*.csv files", _LAYOUT_HINT)
        recordings.extend(Recording(f, label, _read_csv(f)) for f in files)
    return recordings


def _read_csv(path: Path) -> np.ndarray:
    try:
        data = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
    except (ValueError, OSError) as e:
        raise InputFileError(f"cannot read HAR recording {path}: {e}",
                             "each line must be three comma-separated numbers x, y, z in mg") from e
    if data.shape[1] != AXES or data.shape[0] == 0:
        raise InputFileError(f"HAR recording {path} has shape {data.shape}, expected (n, 3)",
                             "each line must be three comma-separated numbers x, y, z in mg")
    return data


def make_windows(samples: np.ndarray, window_len: int, stride: int) -> np.ndarray:
    """(n, C) -> (k, window_len, C) windows starting every ``stride`` samples; k may be 0."""
    if window_len < 1 or stride < 1:
        raise UsageError(f"window_len={window_len} and stride={stride} must both be >= 1",
                         "e.g. window_len=52 (2 s at 26 Hz), stride=26")
    count = (samples.shape[0] - window_len) // stride + 1
    if count <= 0:
        return np.zeros((0, window_len, samples.shape[1]), dtype=samples.dtype)
    starts = np.arange(count) * stride
    return samples[starts[:, None] + np.arange(window_len)[None, :]]


def load_har(path: str | Path | None = None, window_len: int = DEFAULT_WINDOW_LEN, stride: int = 26,
             center_windows: bool = True, normalization: Normalization = "standard",
             val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0) -> HarData:
    """Load, window, split by recording (stratified by class, deterministic in ``seed``), normalise.

    center_windows: subtract each window's per-axis mean. That removes gravity, i.e. how the
    board was held (wrist, hand, arm or pocket, different in every recording), and leaves the
    motion; an LSTM trained on uncentred windows learns the orientation and reaches only ~70 %
    test accuracy here, ~99 % when centred.
    normalization: "standard" subtracts the per-axis mean and divides by the per-axis standard
    deviation of the training windows only; "g" divides by 1000 (mg -> g, a fixed scale that
    needs no statistics); "none" keeps mg.
    """
    if normalization not in _NORMALIZATIONS:
        raise UsageError(f"unknown normalization {normalization!r}",
                         f"use one of {', '.join(_NORMALIZATIONS)}")
    check_fractions(val_fraction, test_fraction)
    root = Path(path) if path is not None else default_har_dir()
    recordings = read_recordings(root)
    assignment = stratified_assignment([r.label for r in recordings], val_fraction, test_fraction, seed)

    parts: list[tuple[np.ndarray, np.ndarray, tuple[str, ...]]] = []
    for part in range(3):
        xs, ys, names = [], [], []
        for rec, where in zip(recordings, assignment):
            if where != part:
                continue
            windows = make_windows(rec.samples_mg, window_len, stride)
            if center_windows:
                windows = windows - windows.mean(axis=1, keepdims=True)
            xs.append(windows)
            ys.append(np.full(windows.shape[0], rec.label, dtype=np.int64))
            names.append(rec.path.relative_to(root).as_posix())
        x = np.concatenate(xs) if xs else np.zeros((0, window_len, AXES), np.float32)
        y = np.concatenate(ys) if ys else np.zeros((0,), np.int64)
        parts.append((x, y, tuple(names)))

    (x_train, y_train, f_train), (x_val, y_val, f_val), (x_test, y_test, f_test) = parts
    if x_train.shape[0] == 0 or x_test.shape[0] == 0:
        longest = max(r.samples_mg.shape[0] for r in recordings)
        raise UsageError(f"window_len={window_len} leaves no training or test windows "
                         f"(longest recording: {longest} samples)",
                         "use a shorter window_len")

    offset, scale = _normalization_constants(normalization, x_train)
    def norm(x: np.ndarray) -> np.ndarray:
        return ((x - offset) / scale).astype(np.float32)

    return HarData(
        train=Split(norm(x_train), y_train), val=Split(norm(x_val), y_val),
        test=Split(norm(x_test), y_test), class_names=CLASS_NAMES, sample_rate_hz=SAMPLE_RATE_HZ,
        window_len=window_len, stride=stride, normalization=normalization, centered=center_windows,
        offset_mg=offset, scale_mg=scale,
        train_files=f_train, val_files=f_val, test_files=f_test)


def _normalization_constants(normalization: str, x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if normalization == "g":
        return np.zeros(AXES, np.float32), np.full(AXES, _MG_PER_G, np.float32)
    if normalization == "none":
        return np.zeros(AXES, np.float32), np.ones(AXES, np.float32)
    flat = x_train.reshape(-1, AXES).astype(np.float64)
    std = flat.std(axis=0)
    # A constant axis would divide by zero; leave it unscaled instead.
    std = np.where(std > 0, std, 1.0)
    return flat.mean(axis=0).astype(np.float32), std.astype(np.float32)
