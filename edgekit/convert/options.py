"""What a conversion is asked to do. Declared once; the CLI (edgekit.cli.convert) is derived from it.

Each field's ``metadata`` carries its command-line flag and help text, so the option and its
documentation cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edgekit.core.errors import UsageError

TASKS = ("auto", "classifier", "regressor")


def _opt(flag: str | None, help: str, metavar: str | None = None, choices: tuple[str, ...] | None = None) -> dict:
    return {"flag": flag, "help": help, "metavar": metavar, "choices": choices}


@dataclass(frozen=True)
class ConvertOptions:
    model: str = field(metadata=_opt(
        "model", "the network: file.py:factory (PyTorch nn.Module), program.pt2 (torch.export), "
        "model.onnx, model.keras, model.h5, a SavedModel directory, or model.tflite", "MODEL"))
    output_dir: Path = field(default=Path("."), metadata=_opt(
        "-o", "directory for <name>_float32.tflite, <name>_int8.tflite and <name>_int8.fidelity.json",
        "OUTDIR"))
    name: str | None = field(default=None, metadata=_opt(
        "--name", "base name of the outputs (default: the factory name or the model file's stem)"))
    input_shapes: tuple[tuple[int, ...], ...] = field(default=(), metadata=_opt(
        "--input-shape", "input shape in the model's own layout, batch included, e.g. 1,1,8,8 "
        "(repeat once per input); needed for a PyTorch factory and for dynamic dimensions", "SHAPE"))
    calib: Path | None = field(default=None, metadata=_opt(
        "--calib", "calibration samples, .npy (one input) or .npz (one array per input name), "
        "shaped (N, *input shape without batch) in the model's own layout", "FILE"))
    eval: Path | None = field(default=None, metadata=_opt(
        "--eval", "held-out samples for the fidelity report (default: the tail of --calib)", "FILE"))
    calib_samples: int = field(default=300, metadata=_opt(
        "--calib-samples", "at most this many samples are used for calibration", "N"))
    eval_samples: int = field(default=1000, metadata=_opt(
        "--eval-samples", "at most this many held-out samples are used for the fidelity report", "N"))
    task: str = field(default="auto", metadata=_opt(
        "--task", "classifier: report top-1 agreement; regressor: errors and SQNR only; "
        "auto: classifier when the output is (1, C) and differs from the input shape", choices=TASKS))
    seed: int = field(default=0, metadata=_opt(
        "--seed", "seed of the random calibration data used when no --calib is given", "N"))
    # Set by the global --debug flag: show the converters' own output (onnx2tf, TensorFlow) live.
    verbose: bool = field(default=False, metadata=_opt(None, "show the converters' own output"))

    def __post_init__(self) -> None:
        if not str(self.model).strip():
            raise UsageError("no model given", "pass a model file, e.g. `edgekit convert net.onnx`")
        if self.task not in TASKS:
            raise UsageError(f"unknown task {self.task!r}", f"use one of: {', '.join(TASKS)}")
        if self.calib_samples < 1 or self.eval_samples < 1:
            raise UsageError("--calib-samples and --eval-samples must be at least 1")
        for shape in self.input_shapes:
            if not shape or any(d < 1 for d in shape):
                raise UsageError(f"--input-shape {','.join(map(str, shape))} has a dimension below 1",
                                 "give positive sizes, batch included, e.g. --input-shape 1,1,8,8")
            if shape[0] != 1:
                raise UsageError(f"--input-shape {','.join(map(str, shape))}: batch must be 1",
                                 "edgekit converts for batch 1 (one inference at a time); start the shape with 1")
        if self.name is not None and (not self.name or "/" in self.name or self.name.startswith(".")):
            raise UsageError(f"--name {self.name!r} is not a plain file name", "use letters, digits, '_' or '-'")


def parse_shape(text: str) -> tuple[int, ...]:
    """'1,3,32,32' or '1x3x32x32' -> (1, 3, 32, 32)."""
    parts = text.replace("x", ",").replace(" ", "").strip(",").split(",")
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(f"--input-shape {text!r} is not a list of integers",
                         "write it like 1,3,32,32 (batch first, the model's own layout)") from None
    return shape
