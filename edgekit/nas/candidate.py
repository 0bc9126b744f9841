"""One candidate, end to end before the device: train from scratch -> int8 .tflite -> int8 accuracy.

``prepare_candidate`` is a pure function of its job (space, architecture, data, training options,
seed), writes everything into the candidate's folder and records ``prepared.json`` last, so a
rerun after an interruption returns the recorded result without retraining. It takes and returns
plain data, so it can run in a Ray worker as well as in-process.

Accuracy is that of the int8 model, run by LiteRT with the TFLite reference kernels (the
arithmetic the generated C reproduces bit for bit), on the validation split (used to choose) and
on the test split (reported only).
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgekit.core.artifact import atomic_write_bytes, atomic_write_text, sha256_file
from edgekit.core.errors import ConversionError
from edgekit.nas.data import DataSource, TaskData, open_data
from edgekit.nas.train import TrainOptions, derive_seed, train_subset

_SOURCES: dict[str, DataSource] = {}


@dataclass(frozen=True)
class CandidateJob:
    folder: str
    space: dict[str, Any]
    arch: dict[str, Any]
    data_spec: str
    train: TrainOptions
    seed: int
    calib_samples: int = 200
    eval_samples: int = 300
    extra: dict[str, Any] = field(default_factory=dict)


def source_for(spec: str) -> DataSource:
    if spec not in _SOURCES:
        _SOURCES[spec] = open_data(spec)
    return _SOURCES[spec]


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float -> int8 as TFLite's QUANTIZE does (round half away from zero, saturate)."""
    v = np.asarray(x, np.float64) / scale
    return np.clip(np.trunc(v + np.copysign(0.5, v)) + zero_point, -128, 127).astype(np.int8)


def int8_accuracy(tflite: Path, x_nchw: np.ndarray, y: np.ndarray) -> float:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(tflite), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    scale, zp = inp["quantization"]
    x = np.ascontiguousarray(x_nchw.transpose(0, 2, 3, 1))           # the converter's NHWC input
    if tuple(inp["shape"][1:]) != x.shape[1:]:
        raise ConversionError(f"{tflite} takes input {tuple(inp['shape'])}, the data is {x.shape[1:]}",
                              "the candidate was converted for another resolution; delete its folder")
    q = quantize_input(x, scale, zp) if inp["dtype"] == np.int8 else x.astype(np.float32)
    correct = 0
    for i in range(len(y)):
        interp.set_tensor(inp["index"], q[i:i + 1])
        interp.invoke()
        correct += int(np.argmax(interp.get_tensor(out["index"])[0]) == y[i])
    return correct / max(len(y), 1)


def _save_weights(path: Path, model: Any) -> None:
    import torch

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    atomic_write_bytes(path, buf.getvalue())


def _save_npy(path: Path, array: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, array)
    atomic_write_bytes(path, buf.getvalue())


def retrained_accuracy(job: CandidateJob) -> float:
    """Float validation accuracy of the job's architecture trained from scratch with the job's seed
    (nothing written): repeated with other seeds, it measures how much accuracy moves by chance."""
    from edgekit.nas.materialize import arch_from_json, build_model, space_from_json
    from edgekit.nas.train import train_classifier

    space = space_from_json(job.space)
    arch = arch_from_json(space, job.arch)
    data = source_for(job.data_spec).at(arch.resolution)
    model = build_model(space, arch, seed=derive_seed(job.seed, "init", arch.key))
    return train_classifier(model, data, job.train, seed=derive_seed(job.seed, "train", arch.key))


def prepare_candidate(job: CandidateJob) -> dict[str, Any]:
    folder = Path(job.folder)
    done = folder / "prepared.json"
    if done.is_file():
        return json.loads(done.read_text())
    from edgekit.convert.api import convert
    from edgekit.convert.options import ConvertOptions
    from edgekit.nas.materialize import arch_from_json, build_model, save_arch, space_from_json, write_factory
    from edgekit.nas.train import train_classifier

    t0 = time.monotonic()
    space = space_from_json(job.space)
    arch = arch_from_json(space, job.arch)
    data: TaskData = source_for(job.data_spec).at(arch.resolution)
    folder.mkdir(parents=True, exist_ok=True)
    model = build_model(space, arch, seed=derive_seed(job.seed, "init", arch.key))
    float_val = train_classifier(model, data, job.train, seed=derive_seed(job.seed, "train", arch.key))
    t_train = time.monotonic() - t0
    save_arch(folder / "arch.json", space, arch)
    _save_weights(folder / "weights.pt", model)
    shape = space.input_shape(arch.resolution)
    write_factory(folder, shape)
    x_cal, _ = train_subset(data, job.calib_samples)
    _save_npy(folder / "calib.npy", x_cal)
    pick = np.sort(np.random.default_rng(0).permutation(len(data.y_val))[: job.eval_samples])
    _save_npy(folder / "eval.npy", data.x_val[pick])
    result = convert(ConvertOptions(model=f"{folder / 'model.py'}:build", output_dir=folder / "tflite", name="model",
                                    input_shapes=(shape,), calib=folder / "calib.npy", eval=folder / "eval.npy",
                                    calib_samples=job.calib_samples, eval_samples=job.eval_samples, task="classifier"))
    if result.int8_model is None:
        raise ConversionError(f"candidate {arch.label()} gave no int8 model", "run `edgekit convert` on its model.py")
    tflite = result.int8_model.path
    t_convert = time.monotonic() - t0 - t_train
    out = {
        "key": arch.key, "label": arch.label(), "arch": arch.to_json(),
        "float_val_acc": float_val,
        "int8_val_acc": int8_accuracy(tflite, data.x_val, data.y_val),
        "int8_test_acc": int8_accuracy(tflite, data.x_test, data.y_test),
        "val_samples": int(len(data.y_val)), "test_samples": int(len(data.y_test)),
        "tflite": str(tflite), "tflite_sha256": sha256_file(tflite),
        "top1_agreement": (result.report_data or {}).get("fidelity", {}).get("outputs", [{}])[0].get("top1_agreement"),
        "train_s": round(t_train, 3), "convert_s": round(t_convert, 3),
    }
    atomic_write_text(done, json.dumps(out, indent=1) + "\n")
    return out
