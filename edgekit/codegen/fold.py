"""Fold shape computations into constants.

Keras 3 exports (and converters keeping a dynamic batch) compute RESHAPE's target shape at run
time: SHAPE of an activation, then STRIDED_SLICE / GATHER / PACK / CONCATENATION / REDUCE_PROD /
CAST / FILL ... on small int32 tensors. Every shape is static once the model is generated, so these
operators are evaluated here, in execution order, by a small numpy evaluator: their outputs become
constants and the operators disappear from the generated code (the RESHAPE itself stays a view).

Only operators whose outputs are plain integer tensors (no quantization) and whose inputs are
constants -- or, for SHAPE, have a static shape -- are folded; anything else is left to the
lowerings, which refuse what they cannot run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgekit.codegen.layer import Refusal
from edgekit.codegen.ops.common import strided_slice_plan
from edgekit.codegen.rewrite import removed, with_changes
from edgekit.tflite.ir import Graph, Operator, Tensor

_INT_TYPES = ("int32", "int64", "int16", "int8", "uint8", "bool")

Evaluator = Callable[[Operator, list[np.ndarray], Tensor], np.ndarray]


def _strided_slice(op: Operator, args: list[np.ndarray], out: Tensor) -> np.ndarray:
    x, begin, end, strides = args[0], args[1], args[2], (args[3] if len(args) > 3 else np.ones_like(args[1]))
    plan, shape = strided_slice_plan(x.shape, list(begin.reshape(-1)), list(end.reshape(-1)),
                                     list(strides.reshape(-1)), op.options)
    idx = tuple(slice(a, a + n * s if a + n * s >= 0 else None, s) for a, n, s in plan)
    return x[idx].reshape(shape)


def _slice(op: Operator, args: list[np.ndarray], out: Tensor) -> np.ndarray:
    x, begin, size = args[0], args[1].reshape(-1), args[2].reshape(-1)
    idx = tuple(slice(int(b), x.shape[d] if int(s) < 0 else int(b) + int(s))
                for d, (b, s) in enumerate(zip(begin, size)))
    return x[idx]


def _axis(op: Operator, rank: int, key: str = "axis") -> int:
    a = int(op.options.get(key, 0))
    return a + rank if a < 0 else a


def _reduce(fn: Callable[..., np.ndarray]) -> Evaluator:
    def run(op: Operator, args: list[np.ndarray], out: Tensor) -> np.ndarray:
        axes = tuple(int(a) % max(args[0].ndim, 1) for a in args[1].reshape(-1))
        return fn(args[0], axis=axes, keepdims=bool(op.options.get("keep_dims", False)))
    return run


def _gather(op: Operator, args: list[np.ndarray], out: Tensor) -> np.ndarray:
    if int(op.options.get("batch_dims", 0)) != 0:
        raise Refusal("GATHER with batch_dims is not folded")
    return np.take(args[0], args[1], axis=_axis(op, args[0].ndim))


def _no_activation(op: Operator) -> None:
    if op.options.get("fused_activation_function", "NONE") != "NONE":
        raise Refusal("fused activation on a shape computation")


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Evaluator:
    def run(op: Operator, args: list[np.ndarray], out: Tensor) -> np.ndarray:
        _no_activation(op)
        return fn(args[0], args[1])
    return run


def _concatenation(op: Operator, args: list[np.ndarray], out: Tensor) -> np.ndarray:
    _no_activation(op)
    return np.concatenate(args, axis=_axis(op, args[0].ndim))


_EVALUATORS: dict[str, Evaluator] = {
    "STRIDED_SLICE": _strided_slice,
    "SLICE": _slice,
    "PACK": lambda op, a, out: np.stack(a, axis=_axis(op, a[0].ndim + 1)),
    "CONCATENATION": _concatenation,
    "GATHER": _gather,
    "REDUCE_PROD": _reduce(np.prod),
    "SUM": _reduce(np.sum),
    "REDUCE_MAX": _reduce(np.max),
    "REDUCE_MIN": _reduce(np.min),
    "CAST": lambda op, a, out: a[0],
    "FILL": lambda op, a, out: np.full(tuple(int(d) for d in a[0].reshape(-1)), a[1].reshape(-1)[0]),
    "RESHAPE": lambda op, a, out: a[0].reshape(out.shape),
    "SQUEEZE": lambda op, a, out: a[0].reshape(out.shape),
    "EXPAND_DIMS": lambda op, a, out: a[0].reshape(out.shape),
    "ADD": _binary(np.add),
    "SUB": _binary(np.subtract),
    "MUL": _binary(np.multiply),
    "FLOOR_DIV": _binary(np.floor_divide),
    "FLOOR_MOD": _binary(np.mod),
    "MAXIMUM": _binary(np.maximum),
    "MINIMUM": _binary(np.minimum),
    "RANGE": lambda op, a, out: np.arange(a[0].reshape(-1)[0], a[1].reshape(-1)[0], a[2].reshape(-1)[0]),
}


def _plain_int(t: Tensor) -> bool:
    return t.dtype in _INT_TYPES and (t.quant is None or t.quant.scale.size == 0)


def _show(v: np.ndarray) -> str:
    flat = [str(int(x)) for x in v.reshape(-1)[:8]]
    return "[" + ", ".join(flat) + (", ..." if v.size > 8 else "") + "]"


def fold_shape_computations(graph: Graph) -> Graph:
    data: dict[int, np.ndarray] = {}
    ops: dict[int, Operator] = {}

    def value(i: int) -> np.ndarray | None:
        if i in data:
            return data[i]
        t = graph.tensors[i]
        return None if t.data is None else np.asarray(t.data)

    for op in graph.operators:
        if len(op.outputs) != 1 or op.opcode not in _EVALUATORS and op.opcode != "SHAPE":
            continue
        out = graph.tensors[op.outputs[0]]
        if not _plain_int(out) or op.outputs[0] in graph.outputs:
            continue
        if op.opcode == "SHAPE":
            if not op.inputs or op.inputs[0] < 0:
                continue
            src = graph.tensors[op.inputs[0]]
            if any(d < 0 for d in src.shape):
                continue
            result = np.asarray(src.shape, np.int64)
        else:
            args = [value(i) if i >= 0 else None for i in op.inputs]
            if any(a is None for a in args) or not all(_plain_int(graph.tensors[i]) for i in op.inputs):
                continue
            try:
                result = np.asarray(_EVALUATORS[op.opcode](op, args, out))  # type: ignore[arg-type]
            except (Refusal, ValueError, IndexError, TypeError):
                continue   # left to the lowerings, which say what is wrong
        if result.size != out.num_elements:
            continue
        data[out.index] = result.astype(np.dtype(out.dtype if out.dtype != "bool" else np.bool_)).reshape(out.shape)
        ops[op.index] = removed(op, f"folded at code generation into constant {out.dtype} {_show(data[out.index])}")
    return with_changes(graph, data, ops) if ops else graph
