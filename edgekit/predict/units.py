"""A graph as the predictors see it: operator signatures plus the neighbour pairs the device's
runtime fuses (edgekit.lut.fusion), so that a sum over operators charges a fused pair once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekit.lut.fusion import PATTERNS, FusionRule
from edgekit.lut.signatures import FEATURES, OpSig, graph_signatures, inplace_ops
from edgekit.tflite.ir import Graph


@dataclass(frozen=True)
class FusedPair:
    first: int          # operator indices
    second: int
    kind: str           # pattern name (edgekit.lut.fusion.PATTERNS)


@dataclass(frozen=True)
class GraphUnits:
    graph: Graph
    sigs: tuple[OpSig, ...]
    pairs: tuple[FusedPair, ...]

    def features(self) -> np.ndarray:
        return np.array([s.features for s in self.sigs], dtype=float).reshape(len(self.sigs), len(FEATURES))

    def kernel_types(self) -> list[str]:
        return [s.kernel_type for s in self.sigs]

    def combine(self, per_op: np.ndarray, rules: dict[str, FusionRule]) -> np.ndarray:
        """Sum per-operator figures (last axis = operators) minus the savings of fused pairs."""
        total = per_op.sum(axis=-1)
        for p in self.pairs:
            r = rules[p.kind]
            total = total - (r.alpha * per_op[..., p.first] + r.beta * per_op[..., p.second])
        return total


def graph_units(graph: Graph, rules: dict[str, FusionRule], inplace_cpu: str | None = None) -> GraphUnits:
    """``inplace_cpu``: for a microcontroller, the core whose code-generator memory plan decides
    which operators run in place (part of their signature there)."""
    sigs = graph_signatures(graph, None if inplace_cpu is None else inplace_ops(graph, inplace_cpu))
    fused = {(r.first, r.second): kind for kind, r in rules.items() if r.applies}
    consumers = graph.consumers()
    used: set[int] = set()
    pairs = []
    for op in graph.operators:
        if op.index in used or len(op.outputs) != 1:
            continue
        readers = consumers.get(op.outputs[0], [])
        if len(readers) != 1 or op.outputs[0] in graph.outputs:
            continue
        nxt = readers[0]
        if nxt in used:
            continue
        kind = fused.get((sigs[op.index].kernel_type, sigs[nxt].kernel_type))
        if kind is None:
            continue
        # the measured pad_conv / pad_dwconv patterns are a PAD feeding a VALID convolution
        if kind.startswith("pad_") and sigs[nxt].sig.get("pad") != "VALID":
            continue
        pairs.append(FusedPair(op.index, nxt, kind))
        used.update((op.index, nxt))
    return GraphUnits(graph, tuple(sigs), tuple(pairs))


__all__ = ["FusedPair", "GraphUnits", "PATTERNS", "graph_units"]
