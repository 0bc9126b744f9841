"""How far the int8 model is from the float one, measured on held-out samples.

Both models run in LiteRT with the TFLite reference kernels (BUILTIN_REF: the arithmetic edgekit's
generated C reproduces; XNNPACK differs by an LSB here and there). Per output: top-1 agreement
(classifiers), max/mean absolute error after dequantizing, SQNR. Per layer: the SQNR of every
int8 activation against the float tensor of the same name, and how many dB each op loses
relative to its inputs -- the layers where error grows most are the ones to look at.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from edgekit.tflite.ir import Graph, Tensor

LAYER_SAMPLES = 64   # per-layer statistics read every tensor; an evenly spread subset is plenty
WORST_LAYERS = 3


@dataclass(frozen=True)
class OutputFidelity:
    name: str
    shape: tuple[int, ...]
    top1_agreement: float | None    # fraction of samples whose argmax agrees; None: not a classifier
    max_abs_error: float
    mean_abs_error: float
    sqnr_db: float | None           # None: undefined (int8 equals float exactly, or the float output is all zero)


@dataclass(frozen=True)
class LayerFidelity:
    index: int
    opcode: str
    tensor: str
    sqnr_db: float | None
    sqnr_drop_db: float | None      # SQNR of its worst input minus SQNR of its output


@dataclass(frozen=True)
class Fidelity:
    samples: int
    outputs: tuple[OutputFidelity, ...]
    layers: tuple[LayerFidelity, ...]
    worst_layers: tuple[LayerFidelity, ...]

    def to_json(self) -> dict[str, Any]:
        return {"samples": self.samples,
                "outputs": [asdict(o) for o in self.outputs],
                "worst_layers": [asdict(x) for x in self.worst_layers],
                "layers": [asdict(x) for x in self.layers]}


def sqnr_db(reference: np.ndarray, test: np.ndarray) -> float | None:
    """10·log10(Σref² / Σ(ref-test)²); None when undefined (no error at all, or an all-zero reference)."""
    ref = np.asarray(reference, np.float64)
    return _to_db(float(np.sum(ref ** 2)), float(np.sum((ref - np.asarray(test, np.float64)) ** 2)))


def quantize(x: np.ndarray, t: Tensor) -> np.ndarray:
    """Float -> int8 the way TFLite's QUANTIZE does (round half away from zero, saturate)."""
    scale, zp = float(t.quant.scale[0]), int(t.quant.zero_point[0])
    v = np.asarray(x, np.float64) / scale
    return np.clip(np.trunc(v + np.copysign(0.5, v)) + zp, -128, 127).astype(np.int8)


def dequantize(q: np.ndarray, t: Tensor) -> np.ndarray:
    if t.quant is None:
        return np.asarray(q, np.float32)
    scale = t.quant.scale.astype(np.float64)
    zp = t.quant.zero_point.astype(np.float64)
    if t.quant.per_channel:
        shape = [1] * q.ndim
        shape[t.quant.axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    else:
        scale, zp = scale[0], zp[0]
    return ((np.asarray(q, np.float64) - zp) * scale).astype(np.float32)


def is_classifier_output(shape: tuple[int, ...], input_shapes: list[tuple[int, ...]]) -> bool:
    """(1, C) with C >= 2 that is not an input-shaped reconstruction (autoencoders)."""
    return len(shape) == 2 and shape[0] == 1 and shape[1] >= 2 and shape not in input_shapes


class _Runner:
    def __init__(self, tflite: bytes, graph: Graph, keep_all: bool) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        self.graph = graph
        self.interp = Interpreter(model_content=tflite, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                                  experimental_preserve_all_tensors=keep_all)
        self.interp.allocate_tensors()

    def run(self, xs: list[np.ndarray]) -> None:
        for idx, x in zip(self.graph.inputs, xs):
            t = self.graph.tensor(idx)
            self.interp.set_tensor(idx, quantize(x, t) if t.dtype == "int8" else x.astype(np.float32))
        self.interp.invoke()

    def value(self, idx: int) -> np.ndarray:
        return dequantize(self.interp.get_tensor(idx), self.graph.tensor(idx))


def measure(float_tflite: bytes, float_graph: Graph, int8_tflite: bytes, int8_graph: Graph,
            samples: list[np.ndarray], task: str) -> Fidelity:
    """``samples``: one float32 array (N, *tflite input shape[1:]) per input."""
    n = len(samples[0])
    # Per-layer pairs: int8 op outputs with a float tensor of the same name and shape.
    float_by_name = {float_graph.tensor(i).name: i for op in float_graph.operators for i in op.outputs}
    for i in float_graph.inputs:
        float_by_name.setdefault(float_graph.tensor(i).name, i)
    pairs = {}
    for op in int8_graph.operators:
        for i in op.outputs:
            t = int8_graph.tensor(i)
            j = float_by_name.get(t.name)
            if t.quant is not None and j is not None and float_graph.tensor(j).shape == t.shape:
                pairs[i] = j
    for i, j in zip(int8_graph.inputs, float_graph.inputs):
        pairs[i] = j

    f_run = _Runner(float_tflite, float_graph, keep_all=True)
    q_run = _Runner(int8_tflite, int8_graph, keep_all=True)
    outs_f = [[] for _ in int8_graph.outputs]
    outs_q = [[] for _ in int8_graph.outputs]
    power = {i: [0.0, 0.0] for i in pairs}   # int8 tensor -> [signal, noise]
    layer_samples = set(np.linspace(0, n - 1, min(n, LAYER_SAMPLES)).round().astype(int).tolist())
    for s in range(n):
        xs = [a[s:s + 1] for a in samples]
        f_run.run(xs)
        q_run.run(xs)
        for k, (qi, fi) in enumerate(zip(int8_graph.outputs, float_graph.outputs)):
            outs_f[k].append(f_run.value(fi))
            outs_q[k].append(q_run.value(qi))
        if s in layer_samples:
            for qi, fi in pairs.items():
                ref = f_run.value(fi).astype(np.float64)
                if qi in int8_graph.inputs:  # what quantizing the input alone costs
                    got = dequantize(quantize(ref, int8_graph.tensor(qi)), int8_graph.tensor(qi))
                else:
                    got = q_run.value(qi)
                power[qi][0] += float(np.sum(ref ** 2))
                power[qi][1] += float(np.sum((ref - got) ** 2))

    input_shapes = [int8_graph.tensor(i).shape for i in int8_graph.inputs]
    outputs = []
    for k, qi in enumerate(int8_graph.outputs):
        f, q = np.concatenate(outs_f[k]), np.concatenate(outs_q[k])
        t = int8_graph.tensor(qi)
        classify = task == "classifier" or (task == "auto" and is_classifier_output(t.shape, input_shapes))
        top1 = None
        if classify:
            f2, q2 = f.reshape(n, -1), q.reshape(n, -1)
            top1 = float(np.mean(np.argmax(f2, axis=1) == np.argmax(q2, axis=1)))
        err = np.abs(f.astype(np.float64) - q)
        outputs.append(OutputFidelity(t.name, t.shape, top1, float(err.max()), float(err.mean()), sqnr_db(f, q)))
    layers = _layers(int8_graph, power)
    drops = sorted((x for x in layers if x.sqnr_drop_db is not None and x.sqnr_drop_db > 0),
                   key=lambda x: -x.sqnr_drop_db)
    return Fidelity(n, tuple(outputs), layers, tuple(drops[:WORST_LAYERS]))


def _to_db(signal: float, noise: float) -> float | None:
    if noise == 0.0 or signal == 0.0:
        return None
    return round(10.0 * math.log10(signal / noise), 3)


def _layers(graph: Graph, power: dict[int, list[float]]) -> tuple[LayerFidelity, ...]:
    db = {i: _to_db(*p) for i, p in power.items()}
    rows = []
    for op in graph.operators:
        for i in op.outputs:
            if i not in db:
                continue
            known = [db[j] for j in op.inputs if db.get(j) is not None]
            drop = None if not known or db[i] is None else round(min(known) - db[i], 3)
            rows.append(LayerFidelity(op.index, op.opcode, graph.tensor(i).name, db[i], drop))
    return tuple(rows)
