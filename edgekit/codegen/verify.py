"""`edgekit verify`: build the generated library for the host, run N random inputs plus edge cases
(all minimum, all maximum, all zero point) and compare byte for byte with a reference
interpreter; on a difference, name the first layer whose output differs."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.codegen.build import build_host_runner
from edgekit.codegen.emit import write_library
from edgekit.codegen.generate import CodegenOptions, Generated, generate
from edgekit.codegen.references import REFERENCES, Reference, open_reference
from edgekit.core.errors import EdgekitError, UsageError, VerificationError
from edgekit.tflite.ir import Graph
from edgekit.tflite.reader import read_tflite

_NP = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "float32": np.float32, "uint8": np.uint8}


@dataclass(frozen=True)
class VerifyOptions:
    inputs: int = 100                  # random inputs, on top of the 3 edge cases
    kernels: str = "portable"          # portable | cmsis-nn
    reference: str = "tflm"            # tflm | litert (tflm falls back to litert when it cannot run the model)
    seed: int = 0
    cmsis_nn_path: str | None = None


@dataclass(frozen=True)
class LayerDiff:
    op_index: int
    opcode: str
    tensor: str
    differing: int
    elements: int
    max_lsb: float


@dataclass(frozen=True)
class VerifyResult:
    model: str
    kernels: str
    reference: str
    total: int
    exact: int
    max_lsb: float                     # largest output difference against `reference`
    other_reference: str
    other_max_lsb: float | None        # against the other reference; None when it cannot run the model
    other_note: str
    first_diff: LayerDiff | None
    fallback_note: str = ""

    @property
    def ok(self) -> bool:
        return self.exact == self.total


def make_inputs(graph: Graph, n: int, seed: int) -> list[list[np.ndarray]]:
    """Edge cases (all minimum, all maximum, all zero point) then ``n`` uniformly random inputs."""
    rng = np.random.default_rng(seed)
    cases: list[list[np.ndarray]] = [[], [], []]
    rand: list[list[np.ndarray]] = [[] for _ in range(n)]
    for i in graph.inputs:
        t = graph.tensors[i]
        dt = _NP.get(t.dtype)
        if dt is None:
            raise UsageError(f"model input {t.name!r} has type {t.dtype}",
                             "verify supports int8/int16/int32/float32 inputs")
        zp = int(t.quant.zero_point[0]) if t.quant is not None and t.quant.zero_point.size else 0
        if t.dtype == "float32":
            # the range the model quantizes the input to (its QUANTIZE consumer), else +-128
            q = next((graph.tensors[op.outputs[0]].quant for op in graph.operators
                      if op.opcode == "QUANTIZE" and op.inputs[0] == i), None)
            scale = float(q.scale[0]) if q is not None and q.scale.size else 1.0
            zero = int(q.zero_point[0]) if q is not None and q.scale.size else 0
            lo, hi = (-128 - zero) * scale * 1.1, (127 - zero) * scale * 1.1
            cases[0].append(np.full(t.shape, lo, dt))
            cases[1].append(np.full(t.shape, hi, dt))
            cases[2].append(np.zeros(t.shape, dt))
            for r in rand:
                r.append(rng.uniform(lo, hi, size=t.shape).astype(dt))
            continue
        info = np.iinfo(dt)
        cases[0].append(np.full(t.shape, info.min, dt))
        cases[1].append(np.full(t.shape, info.max, dt))
        cases[2].append(np.full(t.shape, zp, dt))
        for r in rand:
            r.append(rng.integers(info.min, int(info.max) + 1, size=t.shape, dtype=np.int64).astype(dt))
    return cases + rand


def _max_lsb(a: np.ndarray, b: np.ndarray) -> float:
    if a.size == 0:
        return 0.0
    if a.dtype.kind == "f":
        return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
    return float(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64))))


def _decode(graph: Graph, ids: tuple[int, ...], raw: bytes) -> list[np.ndarray]:
    out, pos = [], 0
    for i in ids:
        t = graph.tensors[i]
        out.append(np.frombuffer(raw[pos:pos + t.nbytes], _NP[t.dtype]).reshape(t.shape))
        pos += t.nbytes
    return out


class _Runner:
    def __init__(self, gen: Generated, work: Path, options: VerifyOptions) -> None:
        self.gen = gen
        lib_dir = work / "lib"
        write_library(gen.rendered, lib_dir, gen.name)
        self.exe = build_host_runner(lib_dir, gen.name, work / "build", options.kernels,
                                     options.cmsis_nn_path, trace=True).path
        self.work = work
        g = gen.model.graph
        self.out_bytes = sum(g.tensors[i].nbytes for i in g.outputs)

    def run(self, batch: list[list[np.ndarray]], trace: Path | None = None) -> list[list[np.ndarray]]:
        data = b"".join(x.tobytes() for xs in batch for x in xs)
        proc = subprocess.run([str(self.exe), str(len(batch)), str(trace) if trace else "-"], input=data,
                              capture_output=True)
        if proc.returncode != 0:
            raise VerificationError(f"the generated library failed on the host: "
                                    f"{proc.stderr.decode(errors='replace').strip() or proc.returncode}",
                                    "report the model; this is an edgekit bug")
        g = self.gen.model.graph
        n = self.out_bytes
        return [_decode(g, g.outputs, proc.stdout[k * n:(k + 1) * n]) for k in range(len(batch))]

    def trace(self, sequence: list[list[np.ndarray]]) -> list[tuple[int, bytes]]:
        """Every layer's output during the last inference of ``sequence`` (run from a fresh state)."""
        path = self.work / "trace.bin"
        self.run(sequence, path)
        raw, pos, recs = path.read_bytes(), 0, []
        while pos < len(raw):
            op, nb = (int(v) for v in np.frombuffer(raw[pos:pos + 8], np.int32))
            recs.append((op, raw[pos + 8:pos + 8 + nb]))
            pos += 8 + nb
        per_inference = sum(1 for layer in self.gen.model.layers if layer.kernel is not None)
        return recs[-per_inference:] if per_inference else []


def is_stateful(graph: Graph) -> bool:
    return any(t.is_variable for t in graph.tensors)


def first_differing_layer(graph: Graph, runner: _Runner, ref: Reference,
                          sequence: list[list[np.ndarray]]) -> LayerDiff | None:
    """The first layer whose output differs in the last inference of ``sequence``. A stateless
    model needs only that inference; a recurrent one is replayed from its initial state."""
    if not is_stateful(graph):
        sequence = sequence[-1:]
    else:
        ref.reset()
    for xs in sequence:
        ref.run(xs)
    for op_index, got in runner.trace(sequence):
        op = graph.operators[op_index]
        t = graph.tensors[op.outputs[0]]
        want = np.ascontiguousarray(ref.tensor(t.index)).reshape(-1)
        mine = np.frombuffer(got, want.dtype)
        if mine.size != want.size or not np.array_equal(mine, want):
            n = min(mine.size, want.size)
            return LayerDiff(op_index, op.opcode, t.name, int(np.count_nonzero(mine[:n] != want[:n])), int(want.size),
                             _max_lsb(mine[:n], want[:n]))
    return None


def verify(model_path: str | Path, options: VerifyOptions | None = None,
           codegen_options: CodegenOptions | None = None) -> VerifyResult:
    options = options or VerifyOptions()
    codegen_options = codegen_options or CodegenOptions()
    if options.reference not in REFERENCES:
        raise UsageError(f"unknown reference {options.reference!r}", "use tflm or litert")
    if options.inputs < 0:
        raise UsageError("--inputs must be >= 0")
    path = Path(model_path)
    graph = read_tflite(path)
    gen = generate(graph, codegen_options, path.name)
    arena_hint = 4 * sum(t.nbytes for t in graph.tensors if not t.is_constant) + 65536
    n_out = len(graph.outputs)
    fallback_note = ""
    try:
        ref = open_reference(options.reference, path, arena_hint, n_out)
    except VerificationError as e:
        if options.reference != "tflm":
            raise
        ref = open_reference("litert", path, arena_hint, n_out)
        fallback_note = f"{e.message}; checked against LiteRT BUILTIN_REF instead"
    other_kind = "litert" if ref.name == "tflm" else "tflm"
    other: Reference | None
    try:
        other = open_reference(other_kind, path, arena_hint, n_out)
        other_note = ""
    except EdgekitError as e:
        other, other_note = None, e.message
    cases = make_inputs(graph, options.inputs, options.seed)
    with tempfile.TemporaryDirectory(prefix="edgekit-verify-") as tmp:
        runner = _Runner(gen, Path(tmp), options)
        got = runner.run(cases)
        exact, max_lsb, other_lsb, first_bad = 0, 0.0, 0.0, None
        for k, xs in enumerate(cases):
            want = ref.run(xs)
            d = max((_max_lsb(a, b.reshape(a.shape)) for a, b in zip(got[k], want)), default=0.0)
            same = all(a.tobytes() == np.ascontiguousarray(b).tobytes() for a, b in zip(got[k], want))
            exact += same
            max_lsb = max(max_lsb, d)
            if not same and first_bad is None:
                first_bad = k
            if other is not None:
                try:
                    o = other.run(xs)
                    other_lsb = max(other_lsb, max((_max_lsb(a, b.reshape(a.shape)) for a, b in zip(got[k], o)),
                                                   default=0.0))
                except Exception as e:  # noqa: BLE001 - a reference crashing on one input
                    other, other_note = None, f"{other_kind} failed: {e}"
        diff = (first_differing_layer(gen.model.graph, runner, ref, cases[:first_bad + 1])
                if first_bad is not None else None)
    return VerifyResult(graph.name, options.kernels, ref.name, len(cases), exact, max_lsb, other_kind,
                        other_lsb if other is not None else None, other_note, diff, fallback_note)
