"""Graph -> lowered layers. Every operator is tried; all refusals are collected and reported at
once (operator index, opcode, reason) before anything is written. Operators a graph rewrite made
redundant (rewrite.py) become layers without code."""

from __future__ import annotations

from dataclasses import dataclass, replace

from edgekit.codegen.layer import Layer, Refusal, RefusedOp
from edgekit.codegen.ops import load_lowerings
from edgekit.codegen.ops.common import CMSIS_FAMILIES, LowerCtx
from edgekit.codegen.rewrite import REMOVED, is_removed
from edgekit.core.errors import UnsupportedModelError
from edgekit.tflite.ir import Graph
from edgekit.tflite.stats import op_macs

_CUSTOM_HINTS = {
    "ethos-u": "the model was compiled by Vela for an Ethos-U NPU; generate code from the .tflite before Vela",
}


@dataclass(frozen=True)
class LoweredModel:
    graph: Graph
    layers: tuple[Layer, ...]          # one per operator, in execution order


def _refuse_custom(opcode: str) -> str:
    code = opcode.split(":", 1)[1]
    hint = _CUSTOM_HINTS.get(code)
    if hint is None and code.startswith("Signal"):
        hint = "a TFLite Micro signal-processing custom op (audio front end); run it outside the model"
    return f"custom operator '{code}' cannot be generated" + (f" ({hint})" if hint else "")


def lower_graph(graph: Graph, cmsis_families: tuple[str, ...] = CMSIS_FAMILIES) -> LoweredModel:
    lowerings = load_lowerings()
    ctx = LowerCtx(graph, cmsis_families)
    layers: list[Layer] = []
    refused: list[RefusedOp] = []
    for op in graph.operators:
        if is_removed(op):
            layers.append(Layer(op.index, op.opcode, None, summary=str(op.options[REMOVED])))
            continue
        if op.opcode.startswith("CUSTOM:"):
            refused.append(RefusedOp(op.index, op.opcode, _refuse_custom(op.opcode)))
            continue
        fn = lowerings.get(op.opcode)
        if fn is None:
            refused.append(RefusedOp(op.index, op.opcode, "operator not supported by edgekit codegen"))
            continue
        try:
            # one MAC convention for the whole project (edgekit.tflite.stats): weight x activation
            layers.append(replace(fn(ctx, op), macs=op_macs(graph, op) or 0))
        except Refusal as e:
            refused.append(RefusedOp(op.index, op.opcode, str(e)))
    for i in graph.inputs + graph.outputs:
        t = graph.tensors[i]
        if t.dtype not in ("int8", "int16", "float32", "int32"):
            refused.append(RefusedOp(-1, "GRAPH", f"model input/output {t.name!r} has type {t.dtype}"))
    if not graph.operators:
        refused.append(RefusedOp(-1, "GRAPH", "the model has no operators"))
    if refused:
        raise unsupported_error(graph, refused)
    return LoweredModel(graph, tuple(layers))


def unsupported_error(graph: Graph, refused: list[RefusedOp]) -> UnsupportedModelError:
    float_ops = [r for r in refused if "float32; supported" in r.reason]
    hint = None
    n = len(graph.operators)
    if float_ops and len(float_ops) == len(refused):
        ops = ", ".join(f"op {r.op_index} {r.opcode}" for r in refused)
        return UnsupportedModelError(
            f"{graph.name}: the model is float32, not int8: {len(refused)} of {n} operator(s) have float "
            f"tensors ({ops})", "convert it to a full-integer int8 model (edgekit convert --int8)")
    if any(r.opcode.startswith("CUSTOM:") for r in refused):
        hint = "remove the custom operators or run them outside the generated library"
    detail = "; ".join(str(r) for r in refused)
    return UnsupportedModelError(
        f"{graph.name}: {len(refused)} of {n} operator(s) cannot be generated: {detail}", hint)
