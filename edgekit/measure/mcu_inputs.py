"""What a board run needs to know about its model, and the inputs it is fed.

MODEL may be a network file (converted to int8 TFLite on the way), an int8 .tflite (through
codegen) or the folder of an already generated C library. Inputs come from a file — ``.npy``
(one input: shaped (N, *shape) or shape), ``.npz`` (one array per input, by tensor name or
``input0``, ``input1`` ...), or ``.bin`` (N raw records of all input bytes) — or are generated:
the three edge cases (all minimum, all maximum, all zero point) and then seeded random values.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekit.core.artifact import atomic_write_text, sha256_bytes, sha256_file
from edgekit.core.errors import CalibrationError, InputFileError
from edgekit.core.profile import DeviceProfile
from edgekit.targets.mcu import FirmwareOptions, build_host_runner, layer_slots, library_name
from edgekit.tflite.ir import Graph

_NP = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32, "float32": np.float32}


@dataclass(frozen=True)
class PreparedModel:
    name: str                        # C prefix of the library
    lib_dir: Path
    source: Path                     # what the user gave
    tflite: Path | None              # int8 .tflite the library was generated from (None: a library folder)
    graph: Graph | None
    artifact_sha256: str             # of the .tflite, or of the library's files
    input_bytes: tuple[int, ...]
    output_bytes: tuple[int, ...]
    arena_bytes: int
    weights_bytes: int | None        # from codegen; the ELF figure is taken after the build
    max_layers: int
    op_names: dict[int, str] = field(default_factory=dict)
    op_macs: dict[int, int] = field(default_factory=dict)


def _library_sha(lib_dir: Path) -> str:
    parts = []
    for p in sorted(x for x in lib_dir.rglob("*") if x.is_file() and "build" not in x.relative_to(lib_dir).parts):
        parts.append(str(p.relative_to(lib_dir)) + ":" + sha256_file(p))
    return sha256_bytes("\n".join(parts).encode())


def _write_changed(rendered: dict[str, str], lib_dir: Path) -> None:
    """Write the generated files whose content changed, so that make rebuilds only what it must;
    remove sources left from another model (the firmware build compiles every .c it finds)."""
    if lib_dir.is_dir():
        for p in lib_dir.rglob("*"):
            if p.suffix in (".c", ".h") and str(p.relative_to(lib_dir)) not in rendered:
                p.unlink()
    for rel, text in rendered.items():
        p = lib_dir / rel
        if not p.is_file() or p.read_text() != text:
            atomic_write_text(p, text)


def _to_tflite(model: Path, work: Path) -> Path:
    if model.suffix.lower() == ".tflite":
        return model
    from edgekit.convert.api import convert
    from edgekit.convert.options import ConvertOptions

    result = convert(ConvertOptions(model=str(model), output_dir=work / "convert"))
    if result.int8_model is None:
        raise InputFileError(f"{model} did not convert to an int8 model", "run `edgekit convert` to see why")
    return result.int8_model.path


def prepare_model(model: Path, work: Path, profile: DeviceProfile, kernels: str = "portable",
                  cmsis_nn_path: str | None = None) -> PreparedModel:
    if not model.exists():
        raise InputFileError(f"{model} does not exist", "give a .tflite, a network file or a generated library folder")
    if model.is_dir() and not (model / "saved_model.pb").is_file():
        return _prepare_library(model, work, kernels, cmsis_nn_path)
    from edgekit.codegen.generate import CodegenOptions, generate
    from edgekit.tflite.reader import read_tflite

    tflite = _to_tflite(model, work)
    gen = generate(read_tflite(tflite), CodegenOptions(cpu=profile.cpu), tflite.name)
    lib_dir = work / f"lib-{profile.cpu}"
    _write_changed(gen.rendered, lib_dir)
    g = gen.model.graph
    weights = sum(c.nbytes for layer in gen.model.layers for c in layer.consts)
    return PreparedModel(
        name=gen.name, lib_dir=lib_dir, source=model, tflite=tflite, graph=g, artifact_sha256=sha256_file(tflite),
        input_bytes=tuple(g.tensors[i].nbytes for i in g.inputs), output_bytes=tuple(g.tensors[i].nbytes for i in g.outputs),
        arena_bytes=gen.memory.plan.arena_bytes, weights_bytes=weights,
        max_layers=max((layer.op_index for layer in gen.model.layers), default=0) + 1,
        op_names={layer.op_index: layer.opcode for layer in gen.model.layers},
        op_macs={layer.op_index: layer.macs for layer in gen.model.layers})


def _prepare_library(lib_dir: Path, work: Path, kernels: str, cmsis_nn_path: str | None) -> PreparedModel:
    name = library_name(lib_dir)
    slots = layer_slots(lib_dir)
    runner = build_host_runner(lib_dir, name, work / f"host-{kernels}",
                               FirmwareOptions(kernels=kernels, cmsis_nn_path=cmsis_nn_path, max_layers=slots))
    info = subprocess.run([str(runner), "--info"], capture_output=True, text=True, check=True).stdout
    fields = {line.split()[0]: [int(v) for v in line.split()[1:] if v.isdigit()] for line in info.splitlines() if line}
    return PreparedModel(name=name, lib_dir=lib_dir, source=lib_dir, tflite=None, graph=None,
                         artifact_sha256=_library_sha(lib_dir), input_bytes=tuple(fields["inputs"]),
                         output_bytes=tuple(fields["outputs"]), arena_bytes=fields["arena"][0], weights_bytes=None,
                         max_layers=slots)


def make_inputs(prepared: PreparedModel, count: int, seed: int) -> list[list[bytes]]:
    if prepared.graph is not None:
        from edgekit.codegen.verify import make_inputs as codegen_inputs

        cases = codegen_inputs(prepared.graph, max(count - 3, 0), seed)[:count]
        return [[np.ascontiguousarray(x).tobytes() for x in xs] for xs in cases]
    rng = np.random.default_rng(seed)
    return [[rng.integers(0, 256, size=n, dtype=np.uint8).tobytes() for n in prepared.input_bytes] for _ in range(count)]


def _key_for(prepared: PreparedModel, i: int, keys: list[str]) -> str:
    names = []
    if prepared.graph is not None:
        names.append(prepared.graph.tensors[prepared.graph.inputs[i]].name)
    names.append(f"input{i}")
    for n in names:
        if n in keys:
            return n
    raise CalibrationError(f"the inputs file has no array for input {i} (looked for {', '.join(map(repr, names))})",
                           f"name the arrays {', '.join(repr(n) for n in names)}; it has {', '.join(keys)}")


def _records_from_array(prepared: PreparedModel, i: int, arr: np.ndarray, path: Path) -> list[bytes]:
    want = prepared.input_bytes[i]
    if prepared.graph is not None:
        t = prepared.graph.tensors[prepared.graph.inputs[i]]
        dtype = _NP.get(t.dtype)
        if dtype is not None and arr.dtype != dtype:
            raise CalibrationError(f"{path}: input {i} is {arr.dtype}, the model takes {t.dtype}",
                                   f"quantize the samples to {t.dtype} with the input's scale and zero point")
    flat = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
    if flat.size % want:
        raise CalibrationError(f"{path}: input {i} has {flat.size} bytes, not a multiple of one sample ({want} bytes)",
                               "give an array shaped (N, *input shape) or (input shape)")
    return [flat[k * want:(k + 1) * want].tobytes() for k in range(flat.size // want)]


def load_inputs(path: Path, prepared: PreparedModel) -> list[list[bytes]]:
    if not path.is_file():
        raise InputFileError(f"inputs file {path} does not exist")
    suffix = path.suffix.lower()
    per_input: list[list[bytes]]
    if suffix == ".bin":
        raw, rec = path.read_bytes(), sum(prepared.input_bytes)
        if not raw or len(raw) % rec:
            raise CalibrationError(f"{path}: {len(raw)} bytes is not a whole number of {rec}-byte records",
                                   "write N records of all input bytes, input 0 first")
        out = []
        for k in range(len(raw) // rec):
            pos, xs = k * rec, []
            for n in prepared.input_bytes:
                xs.append(raw[pos:pos + n])
                pos += n
            out.append(xs)
        return out
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise InputFileError(f"cannot read {path}: {e}", "give a .npy, .npz or .bin file") from None
    if suffix == ".npy" or isinstance(loaded, np.ndarray):
        if len(prepared.input_bytes) != 1:
            raise CalibrationError(f"{path}: one array for a model with {len(prepared.input_bytes)} inputs",
                                   "give an .npz with one array per input")
        per_input = [_records_from_array(prepared, 0, loaded, path)]
    else:
        keys = list(loaded.keys())
        per_input = [_records_from_array(prepared, i, loaded[_key_for(prepared, i, keys)], path)
                     for i in range(len(prepared.input_bytes))]
    counts = {len(x) for x in per_input}
    if len(counts) != 1 or 0 in counts:
        raise CalibrationError(f"{path}: the inputs hold different numbers of samples ({sorted(counts)})",
                               "give every input the same number of samples")
    return [list(xs) for xs in zip(*per_input)]

