"""Fold what static shapes make constant, so onnx2tf sees a plain graph.

Exporters emit shape arithmetic (Shape -> Gather -> Concat -> Expand) for things that are fixed
once the input shape is: PyTorch's LSTM builds its zero initial state that way. onnx2tf without
onnxsim cannot convert such a subgraph (it ends in a constant that is not a Keras layer), and
onnxsim is slow and not installed, so edgekit folds these nodes itself: a node whose inputs are
all known (initializers, Constants, or the Shape of a fully static tensor) is evaluated once
with ONNX's reference evaluator and replaced by an initializer.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

# Ops that must not be evaluated ahead of time: random generators and control flow (subgraphs).
_NEVER_FOLD = frozenset({
    "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
    "Bernoulli", "If", "Loop", "Scan", "SequenceMap",
})
_MAX_FOLDED_ELEMENTS = 1 << 24   # never materialise a huge broadcast as a weight
_MAX_ROUNDS = 4                   # folding can make more shapes static; a few rounds settle it


def static_shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape, for tensors whose every dimension is known after shape inference."""
    inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    g = inferred.graph
    out: dict[str, tuple[int, ...]] = {}
    for vi in (*g.input, *g.value_info, *g.output):
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if None not in dims:
            out[vi.name] = tuple(int(d) for d in dims)
    return out


def _evaluate(model: onnx.ModelProto, node: onnx.NodeProto, const: dict[str, np.ndarray]) -> list[np.ndarray]:
    ins = [i for i in node.input if i]
    graph = helper.make_graph(
        [node], "fold",
        [helper.make_tensor_value_info(i, onnx.TensorProto.UNDEFINED, None) for i in ins],
        [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output])
    sub = helper.make_model(graph, opset_imports=model.opset_import, ir_version=model.ir_version)
    return [np.asarray(v) for v in ReferenceEvaluator(sub).run(None, {i: const[i] for i in ins})]


def _fold_round(model: onnx.ModelProto) -> int:
    g = model.graph
    shapes = static_shapes(model)
    const = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    graph_outputs = {o.name for o in g.output}
    keep: list[onnx.NodeProto] = []
    folded = 0
    for node in g.node:
        ins = [i for i in node.input if i]
        foldable = (node.domain in ("", "ai.onnx") and node.op_type not in _NEVER_FOLD
                    and not graph_outputs.intersection(node.output))
        values: list[np.ndarray] | None = None
        if foldable and node.op_type == "Shape" and ins[0] in shapes:
            values = _evaluate(model, node, {ins[0]: np.zeros(shapes[ins[0]], np.float32)})
        elif foldable and all(i in const for i in ins):
            values = _evaluate(model, node, const)
        if values is None or any(v.size > _MAX_FOLDED_ELEMENTS for v in values):
            keep.append(node)
            continue
        folded += 1
        for name, value in zip(node.output, values):
            const[name] = value
    if not folded:
        return 0
    used = {i for n in keep for i in n.input} | graph_outputs
    del g.node[:]
    g.node.extend(keep)
    del g.initializer[:]
    g.initializer.extend(numpy_helper.from_array(v, name=k) for k, v in const.items() if k in used)
    # value_info of folded tensors is stale; shape inference rebuilds it.
    del g.value_info[:]
    return folded


def fold_constants(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return a copy of ``model`` (static input shapes required) with constant subgraphs folded."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    for _ in range(_MAX_ROUNDS):
        if not _fold_round(out):
            break
    return onnx.shape_inference.infer_shapes(out, data_prop=True)
