"""`convert(options) -> ConvertResult`: a network in, float32 + int8 .tflite and a fidelity report out.

Stages: frontend (PyTorch/ONNX/Keras -> static SavedModel in a private temporary directory) ->
float32 TFLite -> samples (calibration / held-out) -> int8 TFLite (checked fully integer) ->
fidelity -> files. Nothing is written to the output directory before every stage succeeded, and
nothing at all to the current directory; the converters' console output is captured unless
``options.verbose``.

Not thread-safe: onnx2tf must run with the working directory set to a private folder, and the
output capture redirects the process's file descriptors 1 and 2. Run conversions one at a time
per process (or in separate processes).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from edgekit.convert.capture import CapturedLog, captured_output
from edgekit.convert.options import ConvertOptions
from edgekit.core.artifact import Artifact, atomic_write_bytes, sha256_bytes
from edgekit.core.errors import ConversionError, EdgekitError, InputFileError, UsageError

_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
_VERSIONED = ("tensorflow", "torch", "onnx", "onnx2tf", "keras", "ai-edge-litert")


@dataclass(frozen=True)
class ConvertResult:
    float_model: Artifact | None
    int8_model: Artifact | None
    report: Artifact | None
    report_data: dict[str, Any] | None
    warnings: tuple[str, ...]
    log: str                      # what the converters printed (empty with options.verbose)


def source_format(model: str) -> str:
    if ".py:" in model or model.endswith(".py"):
        return "pytorch"
    p = Path(model)
    if p.is_dir():
        if (p / "saved_model.pb").is_file():
            return "saved-model"
        raise InputFileError(f"{p}: directory without saved_model.pb", "pass a SavedModel directory or a model file")
    if not p.exists():
        raise InputFileError(f"{p}: no such file", "check the model path")
    suffix = p.suffix.lower()
    formats = {".pt2": "pytorch-export", ".onnx": "onnx", ".tflite": "tflite",
               **{s: "keras" for s in _KERAS_SUFFIXES}}
    if suffix in formats:
        return formats[suffix]
    if suffix in (".pt", ".pth"):
        raise UsageError(f"{p}: a .pt/.pth file holds weights or a pickled module, not a convertible program",
                         "pass file.py:factory (a function returning the nn.Module), or save a torch.export .pt2")
    raise UsageError(f"{p}: unknown model format {suffix or '(no suffix)'}",
                     "give file.py:factory, .pt2, .onnx, .keras, .h5, a SavedModel directory or .tflite")


def default_name(model: str, fmt: str) -> str:
    if fmt == "pytorch" and ":" in model:
        return model.rpartition(":")[2]
    stem = Path(model.rstrip("/")).stem if fmt != "saved-model" else Path(model.rstrip("/")).name
    for tail in ("_int8", "_float32", "_float"):
        if fmt == "tflite" and stem.endswith(tail) and len(stem) > len(tail):
            return stem[: -len(tail)]
    return stem


@contextlib.contextmanager
def _stage(name: str) -> Iterator[None]:
    """Turn an unexpected failure inside a stage into a one-line ConversionError (cause kept for --debug)."""
    try:
        yield
    except EdgekitError:
        raise
    except Exception as e:  # noqa: BLE001 - third-party converters raise anything
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise ConversionError(f"{name} failed: {type(e).__name__}: {first}",
                              "rerun with --debug for the converters' log and the traceback") from e


def _frontend(options: ConvertOptions, fmt: str, workdir: Path, log: CapturedLog):
    shapes = options.input_shapes
    if fmt in ("pytorch", "pytorch-export"):
        from edgekit.convert.frontends.torch import torch_to_saved_model
        return torch_to_saved_model(options.model, shapes, workdir, log, options.verbose)
    if fmt == "onnx":
        from edgekit.convert.frontends.onnx import onnx_to_saved_model
        return onnx_to_saved_model(Path(options.model), shapes, workdir, log, options.verbose)
    if fmt == "keras":
        from edgekit.convert.frontends.keras import keras_to_saved_model
        return keras_to_saved_model(Path(options.model), shapes, workdir)
    from edgekit.convert.frontends.keras import saved_model_to_static
    return saved_model_to_static(Path(options.model), shapes, workdir)


def _versions() -> dict[str, str]:
    out = {}
    for pkg in _VERSIONED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def _write(files: list[tuple[Path, bytes]]) -> None:
    """Write all files or none: on a failure, the ones already written are removed."""
    done: list[Path] = []
    try:
        for path, data in files:
            atomic_write_bytes(path, data)
            done.append(path)
    except OSError as e:
        for path in done:
            path.unlink(missing_ok=True)
        raise InputFileError(f"cannot write {path}: {e.strerror or e}", "check that -o names a writable directory") from None


def convert(options: ConvertOptions) -> ConvertResult:
    fmt = source_format(options.model)
    name = options.name or default_name(options.model, fmt)
    out_dir = Path(options.output_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"-o {out_dir} is a file, not a directory", "give a directory for the outputs")
    with captured_output(enabled=not options.verbose) as log, \
            tempfile.TemporaryDirectory(prefix="edgekit-convert-") as tmp:
        if fmt == "tflite":
            result = _pass_through(options, name, out_dir)
        else:
            result = _convert(options, fmt, name, out_dir, Path(tmp), log)
    return ConvertResult(*result, log=log.text())


def _pass_through(options: ConvertOptions, name: str, out_dir: Path):
    from edgekit.convert.frontends.tflite import check_tflite

    checked = check_tflite(Path(options.model))
    path = out_dir / f"{name}_{checked.kind}.tflite"
    _write([(path, checked.data)])
    artifact = Artifact.from_file("tflite-" + ("int8" if checked.kind == "int8" else "float"), path,
                                  source=str(options.model), passed_through=True)
    warning = "a .tflite input is passed through unchanged: no conversion and no fidelity report"
    if checked.kind == "float32":
        return artifact, None, None, None, (warning,)
    return None, artifact, None, None, (warning,)


def _convert(options: ConvertOptions, fmt: str, name: str, out_dir: Path, workdir: Path, log: CapturedLog):
    from edgekit.convert import calib, fidelity, quantize
    from edgekit.tflite.reader import read_tflite_bytes
    from edgekit.tflite.stats import model_stats

    with _stage("loading the model"):
        tf_model = _frontend(options, fmt, workdir, log)
    plan = calib.plan_samples(tf_model.inputs, options.calib, options.eval, options.calib_samples,
                              options.eval_samples, options.seed)
    with _stage("float32 TFLite conversion"):
        float_bytes = quantize.to_float_tflite(tf_model.saved_model_dir)
        float_graph = read_tflite_bytes(float_bytes, f"{name}_float32")
    got = tuple(float_graph.tensor(i).shape for i in float_graph.inputs)
    want = tuple(s.tflite_shape for s in tf_model.inputs)
    if got != want:
        raise ConversionError(f"the float32 model's inputs are {got}, expected {want}",
                              "report this model; pass --input-shape to pin every dimension meanwhile")
    with _stage("int8 TFLite conversion"):
        int8 = quantize.to_int8_tflite(tf_model.saved_model_dir, plan.calibration.tflite_layout(tf_model.inputs))
        int8_bytes = int8.data
        int8_graph = read_tflite_bytes(int8_bytes, f"{name}_int8")
    with _stage("fidelity measurement"):
        fid = fidelity.measure(float_bytes, float_graph, int8_bytes, int8_graph,
                               plan.held_out.tflite_layout(tf_model.inputs), options.task)
        stats = model_stats(int8_graph)
        float_stats = model_stats(float_graph)

    float_path = out_dir / f"{name}_float32.tflite"
    int8_path = out_dir / f"{name}_int8.tflite"
    report_path = out_dir / f"{name}_int8.fidelity.json"
    report = {
        "model": name,
        "source": str(options.model),
        "source_format": tf_model.source_format,
        "float_model": {"path": str(float_path), "bytes": len(float_bytes), "sha256": sha256_bytes(float_bytes)},
        "int8_model": {"path": str(int8_path), "bytes": len(int8_bytes), "sha256": sha256_bytes(int8_bytes)},
        "inputs": [{"name": s.name, "model_shape": list(s.model_shape), "tflite_shape": list(s.tflite_shape),
                    "layout_perm": None if s.perm is None else list(s.perm)} for s in tf_model.inputs],
        "calibration": {"source": plan.calibration.source, "samples": len(plan.calibration),
                        "random": options.calib is None, "quantizer": int8.quantizer},
        "held_out": {"source": plan.held_out.source, "samples": len(plan.held_out)},
        "runtime": "ai-edge-litert BUILTIN_REF (TFLite reference kernels)",
        "fidelity": fid.to_json(),
        "int8_stats": stats.to_json(),
        "float32_parameter_bytes": float_stats.parameter_bytes,
        "warnings": list(plan.warnings),
        "versions": _versions(),
    }
    text = json.dumps(report, indent=2, allow_nan=False) + "\n"
    _write([(float_path, float_bytes), (int8_path, int8_bytes), (report_path, text.encode("utf-8"))])
    return (Artifact.from_file("tflite-float", float_path, source=str(options.model)),
            Artifact.from_file("tflite-int8", int8_path, source=str(options.model)),
            Artifact.from_file("report", report_path), report, plan.warnings)
