"""Buffer lifetimes for the arena planner: what must be in RAM, from which op to which op.

Time runs over op indices in execution order. A request is live at every op ``t`` with
``first_op <= t <= last_op``; ``first_op == -1`` means "written before op 0" (a graph input) and
``last_op == num_ops`` means "still needed after the last op" (a graph output). Scratch buffers
live at their one op. Reshape-like ops are views: their output shares its input's bytes, so only
the root tensor is a request and its lifetime covers every view of it.

Sizes in the bounds below are rounded up to the plan's alignment (the convention used
everywhere in the planner: a buffer occupies ``align_up(size_bytes)`` bytes); with alignment 1
they are the raw tensor sizes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass


from edgekit.core.errors import EdgekitError, UnsupportedModelError
from edgekit.tflite.ir import Graph, storage_bytes

# Ops whose output is bit-identical to their input (same bytes, new shape).
_VIEW_OPCODES = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})


class PlanError(EdgekitError):
    """A planner input or an arena plan is inconsistent (a bug in the caller or the planner)."""

    default_hint = "report the model and the planner call; this is an edgekit bug"


@dataclass(frozen=True)
class BufferRequest:
    id: int              # tensor index; scratch buffers use negative ids (-(op_index+1))
    size_bytes: int
    first_op: int        # index of the op that writes it; -1 for graph inputs (live from before op 0)
    last_op: int         # last op index that reads it; num_ops for graph outputs (live after the last op)
    # May start at the same offset as this other buffer, whose last_op == first_op (the op
    # writes its output over its input).
    inplace_of: int | None = None


def is_view_op(opcode: str) -> bool:
    """True for ops whose output can alias their first input (no data movement)."""
    return opcode in _VIEW_OPCODES


def scratch_id(op_index: int) -> int:
    return -(op_index + 1)


def align_up(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


def check_requests(requests: Sequence[BufferRequest], num_ops: int, alignment: int) -> None:
    """Raise PlanError unless the requests describe a plannable problem."""
    if num_ops < 0:
        raise PlanError(f"num_ops is {num_ops}; it must be >= 0")
    if alignment < 1:
        raise PlanError(f"alignment is {alignment}; it must be >= 1")
    by_id: dict[int, BufferRequest] = {}
    for r in requests:
        if r.id in by_id:
            raise PlanError(f"buffer id {r.id} is requested twice")
        by_id[r.id] = r
        if r.size_bytes < 0:
            raise PlanError(f"buffer {r.id} has negative size {r.size_bytes}")
        if not -1 <= r.first_op <= r.last_op <= num_ops or r.first_op >= max(num_ops, 0):
            raise PlanError(f"buffer {r.id} has lifetime [{r.first_op}, {r.last_op}] outside a "
                            f"graph of {num_ops} ops")
    for r in requests:
        if r.inplace_of is None:
            continue
        p = by_id.get(r.inplace_of)
        if p is None or p.id == r.id:
            raise PlanError(f"buffer {r.id} is in place of unknown buffer {r.inplace_of}")
        if p.last_op != r.first_op or p.first_op >= r.first_op:
            raise PlanError(f"buffer {r.id} (written at op {r.first_op}) cannot be in place of "
                            f"buffer {p.id} (last read at op {p.last_op})")


def inplace_pairs(requests: Sequence[BufferRequest], sizes: Sequence[int]) -> dict[int, int]:
    """child index -> partner index for in-place requests that can be merged together.

    A partner gets at most one child (the one saving most), so groups are chains in time order.
    As check_requests makes a partner start before its child, members of a chain that are not
    direct pairs are never live at the same op, so any subset of these pairs can be merged.
    """
    index = {r.id: i for i, r in enumerate(requests)}
    claims: dict[int, int] = {}
    for c, r in enumerate(requests):
        if r.inplace_of is None or not sizes[c]:
            continue
        p = index[r.inplace_of]
        if not sizes[p]:
            continue
        old = claims.get(p)
        if old is None or (min(sizes[c], sizes[p]), -r.id) > (min(sizes[old], sizes[p]), -requests[old].id):
            claims[p] = c
    return {c: p for p, c in claims.items()}


def live_bytes_per_time(requests: Sequence[BufferRequest], num_ops: int, alignment: int) -> list[int]:
    """Sum of aligned sizes live at each time point -1 .. num_ops (index t + 1)."""
    diff = [0] * (num_ops + 3)
    for r in requests:
        size = align_up(r.size_bytes, alignment)
        diff[r.first_op + 1] += size
        diff[r.last_op + 2] -= size
    out, acc = [], 0
    for d in diff[:-1]:
        acc += d
        out.append(acc)
    return out


def requests_from_graph(graph: Graph, scratch_bytes: Mapping[int, int],
                        inplace_ops: Mapping[int, tuple[int, int]],
                        view_ops: Collection[int] = ()) -> tuple[list[BufferRequest], dict[int, int]]:
    """Arena requests of ``graph`` plus its views {view tensor: root tensor}.

    Only activations (no constant data, not variable state) go into the arena. Ops with a view
    opcode, or listed in ``view_ops``, alias their output to their first input when both are arena
    tensors of equal byte size. ``inplace_ops`` (op -> (input tensor, output tensor)) lists ops
    whose kernel may write that output over that input; the request is marked in place only when
    the input's root is last read by that op, otherwise the op simply gets a separate output.
    """
    num_ops = len(graph.operators)
    arena = {t.index for t in graph.tensors if t.data is None and not t.is_variable}

    def size_of(i: int) -> int:
        t = graph.tensors[i]
        nbytes = storage_bytes(t.dtype, t.num_elements)
        if any(d < 0 for d in t.shape) or nbytes is None:
            raise UnsupportedModelError(
                f"tensor {t.name!r} has shape {t.shape} and type {t.dtype}; the arena needs a "
                "static size", "export the model with static shapes and a numeric type")
        return nbytes

    views: dict[int, int] = {}
    for op in graph.operators:
        if not (is_view_op(op.opcode) or op.index in view_ops):
            continue
        src = op.inputs[0] if op.inputs else -1
        if len(op.outputs) != 1 or src not in arena or op.outputs[0] not in arena:
            continue
        if size_of(src) != size_of(op.outputs[0]):
            continue
        views[op.outputs[0]] = views.get(src, src)

    first: dict[int, int] = {}
    last: dict[int, int] = {}

    def touch(i: int, t: int) -> None:
        root = views.get(i, i)
        first[root] = min(first.get(root, t), t)
        last[root] = max(last.get(root, t), t)

    for i in graph.inputs:
        if i in arena:
            touch(i, -1)
    for op in graph.operators:
        for i in op.outputs:
            if i in arena:
                touch(i, op.index)
        for i in op.inputs:
            if i in arena:
                touch(i, op.index)
    for i in graph.outputs:
        if i in arena:
            touch(i, num_ops)
    # An activation that no op and no graph input writes is read uninitialised by the model;
    # keeping it live from the start is the only safe placement.
    produced = set(graph.inputs) | {i for op in graph.operators for i in op.outputs}
    for root in first:
        if root not in produced:
            first[root] = -1

    inplace_of: dict[int, int] = {}
    for op_index, (src, dst) in sorted(inplace_ops.items()):
        if not 0 <= op_index < num_ops:
            raise PlanError(f"in-place op index {op_index} is outside the graph's {num_ops} ops")
        op = graph.operators[op_index]
        if src not in op.inputs or dst not in op.outputs:
            raise PlanError(f"op {op_index} ({op.opcode}) has no input {src} / output {dst} to run "
                            "in place")
        root = views.get(src, src)
        if (src in arena and dst in arena and dst not in views and root != dst
                and last.get(root) == op_index and first.get(root, num_ops) < op_index
                and first.get(dst) == op_index):
            inplace_of[dst] = root

    requests = [BufferRequest(i, size_of(i), first[i], last[i], inplace_of.get(i)) for i in sorted(first)]
    for op_index, size in sorted(scratch_bytes.items()):
        if not 0 <= op_index < num_ops or size < 0:
            raise PlanError(f"scratch request {size} bytes at op {op_index} is invalid for a graph "
                            f"of {num_ops} ops")
        if size > 0:
            requests.append(BufferRequest(scratch_id(op_index), size, op_index, op_index))
    return requests, views
