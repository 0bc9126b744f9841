"""Calibration and held-out samples: load, validate against the model's inputs, split, lay out.

Files are in the model's own layout (PyTorch/ONNX: NCHW), shaped (N, *input shape without
batch); edgekit moves them to TFLite's layout itself. A .npy serves a single-input model; an .npz
holds one array per input, keyed by input name (a single-input model accepts any one key).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.convert.tfmodel import InputSpec
from edgekit.core.errors import CalibrationError, InputFileError

MIN_SPLIT_SAMPLES = 10     # below this the calibration file is too small to hold samples out
HELD_OUT_FRACTION = 0.2    # tail of --calib kept for the fidelity report when no --eval is given
RANDOM_SAMPLES = 100


@dataclass(frozen=True)
class SampleSet:
    arrays: tuple[np.ndarray, ...]   # one float32 array per input, (N, *model_shape[1:]), model layout
    source: str                       # where the samples came from, for reports

    def __len__(self) -> int:
        return len(self.arrays[0])

    def take(self, start: int, stop: int, source: str) -> "SampleSet":
        return SampleSet(tuple(a[start:stop] for a in self.arrays), source)

    def select(self, indices: np.ndarray, source: str) -> "SampleSet":
        return SampleSet(tuple(a[indices] for a in self.arrays), source)

    def tflite_layout(self, inputs: tuple[InputSpec, ...]) -> list[np.ndarray]:
        return [spec.to_tflite_layout(a) for spec, a in zip(inputs, self.arrays)]


def _shape(s: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, s)) + ")"


def _check_array(label: str, what: str, spec: InputSpec, a: np.ndarray) -> np.ndarray:
    sample = spec.model_shape[1:]
    if a.dtype.kind not in "f":
        raise CalibrationError(
            f"{label}: {what} has dtype {a.dtype}, expected floating point (float32) samples for input '{spec.name}'",
            "save the samples as float32 in the scale the model was trained on, e.g. np.save(f, x.astype(np.float32))")
    if a.ndim == len(sample):  # a single sample without the sample axis
        a = a[None]
    if tuple(a.shape[1:]) != tuple(sample) or a.ndim != len(sample) + 1:
        hint = f"give an array shaped (N, {', '.join(map(str, sample))}) in the model's own layout"
        if spec.perm is not None and tuple(a.shape[1:]) == spec.tflite_shape[1:]:
            back = tuple(int(i) for i in np.argsort(spec.perm))
            hint = (f"the data looks channel-last; the model wants its own (channel-first) layout: "
                    f"np.transpose(x, {back})")
        raise CalibrationError(
            f"{label}: {what} has shape {_shape(a.shape)}, input '{spec.name}' needs (N, {', '.join(map(str, sample))})",
            hint)
    if len(a) == 0:
        raise CalibrationError(f"{label}: {what} holds no samples", "give at least one sample")
    a = a.astype(np.float32)
    if not np.isfinite(a).all():
        raise CalibrationError(f"{label}: {what} contains NaN or infinite values", "clean the data before calibrating")
    return a


def load_samples(path: Path, inputs: tuple[InputSpec, ...], role: str) -> SampleSet:
    """Read and validate ``path`` (.npy/.npz) for ``inputs``; ``role`` ("--calib"/"--eval") labels errors."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{role} {path}: no such file", "check the path of the .npy/.npz file")
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - numpy raises ValueError/OSError/EOFError/... for bad files
        raise CalibrationError(f"{role} {path}: not a readable .npy/.npz file ({type(e).__name__}: {e})",
                               "write it with np.save (one input) or np.savez (one array per input name)") from None
    label = f"{role} {path}"
    if isinstance(loaded, np.ndarray):
        if len(inputs) != 1:
            raise CalibrationError(f"{role} {path}: one array for a model with {len(inputs)} inputs",
                                   f"use np.savez with one array per input: {', '.join(s.name for s in inputs)}")
        arrays = [_check_array(label, "the array", inputs[0], loaded)]
    else:
        with loaded:
            keys = list(loaded.files)
            if len(inputs) == 1 and len(keys) == 1:
                arrays = [_check_array(label, f"array '{keys[0]}'", inputs[0], loaded[keys[0]])]
            else:
                missing = [s.name for s in inputs if s.name not in keys]
                if missing:
                    raise CalibrationError(f"{role} {path}: no array for input(s) {', '.join(missing)} (has {', '.join(keys)})",
                                           "key the .npz arrays by the model's input names")
                arrays = [_check_array(label, f"array '{s.name}'", s, loaded[s.name]) for s in inputs]
    counts = {len(a) for a in arrays}
    if len(counts) != 1:
        raise CalibrationError(f"{role} {path}: the arrays hold different numbers of samples ({sorted(counts)})",
                               "give every input the same number of samples")
    return SampleSet(tuple(arrays), f"{role} {path.name}")


def random_samples(inputs: tuple[InputSpec, ...], n: int, seed: int) -> SampleSet:
    """Standard-normal stand-ins when the user gives no data (the caller warns loudly)."""
    rng = np.random.default_rng(seed)
    arrays = tuple(rng.standard_normal((n, *s.model_shape[1:])).astype(np.float32) for s in inputs)
    return SampleSet(arrays, f"random normal data (seed {seed})")


@dataclass(frozen=True)
class SamplePlan:
    calibration: SampleSet
    held_out: SampleSet
    warnings: tuple[str, ...]


def plan_samples(inputs: tuple[InputSpec, ...], calib: Path | None, eval_path: Path | None,
                 calib_samples: int, eval_samples: int, seed: int) -> SamplePlan:
    """Which samples calibrate and which measure fidelity (never the same ones when avoidable)."""
    warnings: list[str] = []
    held: SampleSet | None = load_samples(eval_path, inputs, "--eval") if eval_path else None
    if calib is None:
        warnings.append("no --calib given: calibrating on RANDOM data; int8 accuracy on real inputs may be poor "
                        "(give --calib samples.npy in the model's input layout)")
        cal = random_samples(inputs, min(RANDOM_SAMPLES, calib_samples), seed)
        if held is None:
            warnings.append("the fidelity report compares float and int8 on random data, not on real inputs")
            held = random_samples(inputs, min(RANDOM_SAMPLES, eval_samples), seed + 1)
    else:
        cal = load_samples(calib, inputs, "--calib")
        if held is None:
            n = len(cal)
            if n >= MIN_SPLIT_SAMPLES:
                # a seeded random split: user files are often sorted by class or time, so a head/tail
                # split would calibrate on one class and measure on another
                n_held = max(1, int(round(n * HELD_OUT_FRACTION)))
                order = np.random.default_rng(seed).permutation(n)
                held = cal.select(np.sort(order[:n_held]), f"{n_held} random samples of {cal.source} (seed {seed})")
                cal = cal.select(np.sort(order[n_held:]), cal.source)
            else:
                warnings.append(f"--calib holds only {n} samples: fidelity is measured on the calibration samples "
                                "themselves (give --eval held-out samples)")
                held = cal
    rng = np.random.default_rng(seed + 1)
    if len(cal) > calib_samples:  # an even random subset, not the head of a possibly sorted file
        cal = cal.select(np.sort(rng.choice(len(cal), calib_samples, replace=False)),
                         cal.source + f" ({calib_samples} random samples, seed {seed})")
    if len(held) > eval_samples:
        held = held.select(np.sort(rng.choice(len(held), eval_samples, replace=False)),
                           held.source + f" ({eval_samples} random samples, seed {seed})")
    return SamplePlan(cal, held, tuple(warnings))
