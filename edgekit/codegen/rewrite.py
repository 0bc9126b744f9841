"""Graph rewrites before lowering: what users' exports carry that needs no code at run time.

``rewrite_graph`` runs the passes in order: shape computations folded into constants
(``fold.py``), then dilated convolutions recovered from SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND
(``dilation.py``). A pass never renumbers operators or tensors: an operator it makes redundant
keeps its place with no inputs and no outputs and a note saying why (it becomes a comment in the
generated C), so operator indices in messages, comments and traces stay those of the .tflite
file, and the reference interpreters' tensors keep their indices.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from edgekit.tflite.ir import Graph, Operator

REMOVED = "edgekit_removed"     # option of an operator a rewrite made redundant: why


def removed(op: Operator, reason: str) -> Operator:
    return Operator(op.index, op.opcode, (), (), {REMOVED: reason}, op.version)


def is_removed(op: Operator) -> bool:
    return REMOVED in op.options


def with_changes(graph: Graph, data: dict[int, np.ndarray], ops: dict[int, Operator]) -> Graph:
    """``graph`` with tensors given constant data and operators replaced (same indices)."""
    tensors = tuple(replace(t, data=data[t.index]) if t.index in data else t for t in graph.tensors)
    operators = tuple(ops.get(op.index, op) for op in graph.operators)
    return replace(graph, tensors=tensors, operators=operators)


def rewrite_graph(graph: Graph) -> Graph:
    from edgekit.codegen.dilation import fuse_dilated_convolutions
    from edgekit.codegen.fold import fold_shape_computations

    return fuse_dilated_convolutions(fold_shape_computations(graph))
