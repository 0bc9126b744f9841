"""Static arena plan: one byte offset per activation, scratch and view, fixed at code-generation time.

Buffers are grouped into *blocks* that share a base offset: a single buffer, or a chain of
in-place buffers (an op writing its output over its last-read input). A block's height varies
over time (its live member's size; the larger of the two at the op where one replaces the
other), which is how in-place execution goes below the plain lower bound. Placement is
offset-only ("lowest offset that fits") in a chosen order:

- greedy by size (largest block first, as TFLite's planner does) and greedy by breadth (the
  busiest op first), keeping the better; if that misses the bound, squeaky-wheel reordering
  (blocks that end up above the bound move earlier, repeatedly);
- then, if still above the bound, a branch-and-bound search over placement orders (exact, over
  every in-place merge choice too, with at most ``exact_max_buffers`` buffers). Any plan can be
  pushed down ("gravity") without growing, and the pushed-down plan is reproduced by lowest-fit
  in order of (offset, rank); the search therefore only tries orders whose offsets never
  decrease, prunes with a per-op bound, and stops at the lower bound.

The search is budgeted by a cost model of its steps, not by the clock, so the same input always
gives the same plan.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from edgekit.codegen.lifetimes import (BufferRequest, PlanError, align_up, check_requests, inplace_pairs,
                                       is_view_op, live_bytes_per_time, requests_from_graph)
from edgekit.tflite.ir import Graph

__all__ = ["ArenaPlan", "BufferRequest", "PlanError", "is_view_op", "plan_arena", "plan_graph",
           "requests_from_graph", "validate_plan"]

# Cost model of the search in microseconds (measured on a 2-core x86 VM, rounded up), so that
# time_budget_s is roughly honoured while the result depends only on the input.
_FIT_US, _FIT_CONFLICT_US, _STEP_US = 5.0, 0.6, 3.0
_BOUND_US, _BOUND_CELL_US = 20.0, 0.01
_MAX_MERGE_SUBSETS = 64
_SWO_ROUNDS = 200
_SWO_SHARE = 0.25     # of the time budget, per merge set, for squeaky-wheel reordering


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict[int, int]          # buffer/tensor id -> byte offset in the arena (views included)
    arena_bytes: int                 # total, rounded up to alignment
    lower_bound_bytes: int           # max over time of the sum of live (aligned) sizes, ignoring in-place
    live_bytes_per_op: tuple[int, ...]   # that sum at each op
    method: str                      # "greedy-by-size", "greedy-by-breadth", "squeaky-wheel",
                                     # "search" (improved, not proven) or "exact" (proven optimal)
    alignment: int
    # The bound when every allowed in-place pair shares its memory; None when not computed.
    inplace_lower_bound_bytes: int | None = None
    inplace_ids: frozenset[int] = frozenset()   # requests placed over their inplace_of partner


@dataclass(frozen=True)
class _Blocks:
    members: tuple[tuple[int, ...], ...]   # request indices per block
    heights: np.ndarray                    # (blocks, times) aligned bytes, time index = op + 1
    peaks: np.ndarray
    keys: tuple[int, ...]                  # smallest member id, for deterministic ties
    conflicts: tuple[tuple[tuple[int, int, int], ...], ...]   # per block: (other, own need, other need)
    bound: int


def plan_arena(requests: Sequence[BufferRequest], num_ops: int, alignment: int = 16,
               exact_max_buffers: int = 12, time_budget_s: float = 2.0,
               views: Mapping[int, int] | None = None) -> ArenaPlan:
    """Place ``requests`` in one arena; ``views`` {view id: root id} get their root's offset."""
    check_requests(requests, num_ops, alignment)
    live = live_bytes_per_time(requests, num_ops, alignment)
    plain_bound = max(live, default=0)
    sizes = [align_up(r.size_bytes, alignment) for r in requests]
    pairs = inplace_pairs(requests, sizes)
    all_blocks = _make_blocks(requests, sizes, pairs, num_ops)
    needed = {c: p for c, p in pairs.items()
              if live[requests[c].first_op + 1] > all_blocks.bound}
    # Fewest merges first: an in-place kernel may be slower, so merge only when it lowers the arena.
    merge_sets = [{}]
    for s in (needed, dict(pairs)):
        if s not in merge_sets:
            merge_sets.append(s)

    best: tuple[int, str, dict[int, int], _Blocks, np.ndarray] | None = None
    for merges in merge_sets:
        blocks = all_blocks if merges == pairs else _make_blocks(requests, sizes, merges, num_ops)
        tried = [(_arena(blocks, _place(blocks, order)), i, method, order) for i, (method, order) in
                 enumerate((("greedy-by-size", _order_by_size(blocks)),
                            ("greedy-by-breadth", _order_by_breadth(blocks))))]
        arena, _, method, order = min(tried)
        if arena > blocks.bound:
            improved, better_order = _squeaky_wheel(blocks, order, _SWO_SHARE * time_budget_s * 1e6)
            if improved < arena:
                arena, method, order = improved, "squeaky-wheel", better_order
        if best is None or arena < best[0]:
            best = (arena, method, merges, blocks, _place(blocks, order))
        if best[0] == all_blocks.bound:
            break
    assert best is not None
    arena, method, merges, blocks, offsets = best

    n_sized = sum(1 for s in sizes if s > 0)
    if arena > all_blocks.bound:
        subsets = (_all_subsets(pairs, needed) if n_sized <= exact_max_buffers else
                   ([{}, needed, dict(pairs)], False))
        found = _exact(requests, sizes, subsets, num_ops, arena, time_budget_s * 1e6)
        if found[0] is not None:
            arena, merges, blocks, offsets = found[0]
            method = "exact" if found[1] or arena == all_blocks.bound else "search"
        elif found[1]:
            method = "exact"    # the search proved the greedy plan optimal

    plan_offsets = {r.id: 0 for r in requests}
    for b, members in enumerate(blocks.members):
        for m in members:
            plan_offsets[requests[m].id] = int(offsets[b])
    request_ids = set(plan_offsets)
    for view, root in sorted((views or {}).items()):
        if root not in request_ids or view in request_ids:
            raise PlanError(f"view {view} -> root {root}: the root must be a request, the view not")
        plan_offsets[view] = plan_offsets[root]
    plan = ArenaPlan(offsets=plan_offsets, arena_bytes=int(arena), lower_bound_bytes=plain_bound,
                     live_bytes_per_op=tuple(live[1:num_ops + 1]), method=method,
                     alignment=alignment, inplace_lower_bound_bytes=all_blocks.bound,
                     inplace_ids=frozenset(requests[c].id for c in merges))
    validate_plan(requests, plan, views)
    return plan


def plan_graph(graph: Graph, scratch_bytes: Mapping[int, int], inplace_ops: Mapping[int, tuple[int, int]],
               alignment: int = 16, view_ops: Collection[int] = ()) -> ArenaPlan:
    """requests_from_graph + plan_arena, with views in the offsets."""
    requests, views = requests_from_graph(graph, scratch_bytes, inplace_ops, view_ops)
    return plan_arena(requests, len(graph.operators), alignment=alignment, views=views)


def validate_plan(requests: Sequence[BufferRequest], plan: ArenaPlan,
                  views: Mapping[int, int] | None = None) -> None:
    """Raise PlanError unless ``plan`` is a safe placement of ``requests``.

    Safe: every offset aligned and inside the arena; no two buffers live at the same op share a
    byte, except a request and its ``inplace_of`` partner starting at the same offset; the
    reported bound and per-op sums match the requests.
    """
    num_ops, a = len(plan.live_bytes_per_op), plan.alignment
    check_requests(requests, num_ops, a)
    live = live_bytes_per_time(requests, num_ops, a)
    if tuple(live[1:num_ops + 1]) != plan.live_bytes_per_op or max(live, default=0) != plan.lower_bound_bytes:
        raise PlanError("plan's live bytes per op / lower bound do not match its requests")
    if plan.arena_bytes % a:
        raise PlanError(f"arena of {plan.arena_bytes} bytes is not a multiple of {a}")
    spans = []
    for r in requests:
        off = plan.offsets.get(r.id)
        if off is None:
            raise PlanError(f"buffer {r.id} has no offset")
        size = align_up(r.size_bytes, a)
        if off < 0 or off % a or off + size > plan.arena_bytes:
            raise PlanError(f"buffer {r.id} at offset {off} (+{size}) is unaligned or outside the "
                            f"{plan.arena_bytes}-byte arena")
        if size:
            spans.append((r.first_op, r.last_op, off, off + size, r))
    spans.sort(key=lambda s: (s[0], s[4].id))
    for i, (f1, l1, lo1, hi1, r1) in enumerate(spans):
        for f2, l2, lo2, hi2, r2 in spans[i + 1:]:
            if f2 > l1:
                break
            if lo1 < hi2 and lo2 < hi1:
                child = r1.id if r1.inplace_of == r2.id else r2.id if r2.inplace_of == r1.id else None
                paired = child is not None and child in plan.inplace_ids  # declared in place, not by accident
                if not (paired and lo1 == lo2):
                    raise PlanError(f"buffers {r1.id} and {r2.id} are live together and overlap "
                                    f"([{lo1}, {hi1}) and [{lo2}, {hi2}))")
    bound = plan.inplace_lower_bound_bytes
    if bound is not None and not bound <= plan.arena_bytes or plan.lower_bound_bytes > plan.arena_bytes \
            and not plan.inplace_ids:
        raise PlanError(f"arena of {plan.arena_bytes} bytes is below its own lower bound")
    by_id = {r.id: r for r in requests}
    for c in plan.inplace_ids:
        r = by_id.get(c)
        if r is None or r.inplace_of is None or plan.offsets[c] != plan.offsets[r.inplace_of]:
            raise PlanError(f"buffer {c} is reported in place but does not share its partner's offset")
    for view, root in (views or {}).items():
        if plan.offsets.get(view) != plan.offsets.get(root) or root not in by_id:
            raise PlanError(f"view {view} is not at the offset of its root {root}")


# ---------------------------------------------------------------------------------------------
# blocks


def _make_blocks(requests: Sequence[BufferRequest], sizes: Sequence[int], merges: Mapping[int, int],
                 num_ops: int) -> _Blocks:
    root = list(range(len(requests)))

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    for c, p in sorted(merges.items()):
        root[find(c)] = find(p)
    groups: dict[int, list[int]] = {}
    for i, s in enumerate(sizes):
        if s:
            groups.setdefault(find(i), []).append(i)
    members = tuple(tuple(g) for _, g in sorted(groups.items()))
    heights = np.zeros((len(members), num_ops + 2), dtype=np.int64)
    for b, g in enumerate(members):
        for i in g:
            r = requests[i]
            seg = heights[b, r.first_op + 1:r.last_op + 2]
            np.maximum(seg, sizes[i], out=seg)
    live = heights > 0
    first = np.argmax(live, axis=1)
    last = heights.shape[1] - 1 - np.argmax(live[:, ::-1], axis=1)
    conflicts = []
    for b in range(len(members)):
        cand = np.nonzero((first <= last[b]) & (last >= first[b]))[0]
        cand = cand[cand != b]
        window = slice(first[b], last[b] + 1)
        both = live[cand, window] & live[b, window]
        own = np.where(both, heights[b, window], 0).max(axis=1, initial=0)
        other = np.where(both, heights[cand, window], 0).max(axis=1, initial=0)
        conflicts.append(tuple((int(j), int(o), int(t)) for j, o, t in zip(cand, own, other) if o > 0))
    return _Blocks(members, heights, heights.max(axis=1, initial=0),
                   tuple(min(requests[i].id for i in g) for g in members), tuple(conflicts),
                   int(heights.sum(axis=0).max(initial=0)))


def _order_by_size(blocks: _Blocks) -> list[int]:
    span = (blocks.heights > 0).sum(axis=1)
    return sorted(range(len(blocks.members)), key=lambda b: (-blocks.peaks[b], -span[b], blocks.keys[b]))


def _order_by_breadth(blocks: _Blocks) -> list[int]:
    totals = blocks.heights.sum(axis=0)
    order, seen = [], set()
    for t in sorted(range(len(totals)), key=lambda t: (-totals[t], t)):
        live = [b for b in np.nonzero(blocks.heights[:, t])[0] if b not in seen]
        for b in sorted(live, key=lambda b: (-blocks.heights[b, t], -blocks.peaks[b], blocks.keys[b])):
            seen.add(b)
            order.append(int(b))
    return order


def _squeaky_wheel(blocks: _Blocks, order: Sequence[int], budget_us: float) -> tuple[int, list[int]]:
    """Reorder by blame: blocks ending above the bound, and a little their neighbours, move
    earlier; the best order seen wins (squeaky-wheel optimisation, deterministic)."""
    n = len(order)
    cost = sum(_FIT_US + _FIT_CONFLICT_US * len(c) for c in blocks.conflicts)
    rounds = min(_SWO_ROUNDS, max(8, int(budget_us / max(cost, 1.0))))
    priority = {b: float(n - i) for i, b in enumerate(order)}
    best_arena, best_order = _arena(blocks, _place(blocks, order)), list(order)
    current = list(order)
    for _ in range(rounds):
        offsets = _place(blocks, current)
        arena = _arena(blocks, offsets)
        if arena < best_arena:
            best_arena, best_order = arena, list(current)
        if best_arena <= blocks.bound:
            break
        tops = offsets + blocks.peaks
        for b in current:
            if tops[b] > blocks.bound:
                priority[b] += 1.0 + n * (tops[b] - blocks.bound) / blocks.bound
                for j, _, _ in blocks.conflicts[b]:
                    priority[j] += 0.25
        current = sorted(current, key=lambda b: (-priority[b], blocks.keys[b]))
    return best_arena, best_order


def _lowest_fit(blocks: _Blocks, b: int, offsets: np.ndarray) -> int:
    forbidden = sorted((offsets[j] - own, offsets[j] + other)
                       for j, own, other in blocks.conflicts[b] if offsets[j] >= 0)
    x = 0
    for lo, hi in forbidden:
        if x <= lo:
            break
        x = max(x, hi)
    return int(x)


def _place(blocks: _Blocks, order: Sequence[int]) -> np.ndarray:
    offsets = np.full(len(blocks.members), -1, dtype=np.int64)
    for b in order:
        offsets[b] = _lowest_fit(blocks, b, offsets)
    return offsets


def _arena(blocks: _Blocks, offsets: np.ndarray) -> int:
    return int((offsets + blocks.peaks).max(initial=0))


# ---------------------------------------------------------------------------------------------
# exact search


def _all_subsets(pairs: Mapping[int, int], needed: Mapping[int, int]) -> tuple[list[dict[int, int]], bool]:
    """Every subset of the in-place pairs if there are few, else three; and whether that is all."""
    keys = sorted(pairs)
    if 2 ** len(keys) > _MAX_MERGE_SUBSETS:
        return [{}, dict(needed), dict(pairs)], False
    return [{c: pairs[c] for c in combo} for k in range(len(keys) + 1)
            for combo in combinations(keys, k)], True


def _exact(requests, sizes, subsets: tuple[list[dict[int, int]], bool], num_ops: int,
           incumbent: int, budget_us: float):
    """Best plan below ``incumbent`` over the given merge subsets and all placement orders.

    Returns ((arena, merges, blocks, offsets) or None, complete) where complete means every
    subset and order was covered within the node budget.
    """
    subsets, complete = subsets
    unique = []
    for s in subsets:
        if s not in unique:
            unique.append(s)
    candidates = [(s, _make_blocks(requests, sizes, s, num_ops)) for s in unique]
    candidates.sort(key=lambda sb: (sb[1].bound, len(sb[0])))
    found, best = None, incumbent
    state = {"work": budget_us}
    for merges, blocks in candidates:
        if blocks.bound >= best:
            continue
        result = _search(blocks, best, state)
        if result is not None:
            best, offsets = result
            found = (best, merges, blocks, offsets)
        if state["work"] <= 0:
            return found, False
    return found, complete


def _search(blocks: _Blocks, incumbent: int, state: dict[str, float]):
    """Depth-first placement in non-decreasing (offset, rank) order below ``incumbent``.

    Iterative (a model may have more blocks than Python's recursion limit). ``state["work"]``
    is the remaining budget in rough microseconds, charged by a cost model of each step.
    """
    n = len(blocks.members)
    rank = {b: i for i, b in enumerate(_order_by_size(blocks))}
    order = sorted(range(n), key=rank.__getitem__)
    # Bound over the times where some block starts (enough for every interval clique).
    live = blocks.heights > 0
    change = sorted({int(t) for t in np.nonzero(live[:, 1:] & ~live[:, :-1])[1] + 1} | {0})
    h = blocks.heights[:, change]
    fit_cost = [_FIT_US + _FIT_CONFLICT_US * len(c) for c in blocks.conflicts]
    bound_cost = _BOUND_US + _BOUND_CELL_US * h.size
    offsets = np.full(n, -1, dtype=np.int64)
    best_arena, best_offsets = incumbent, None

    def expand(last_x: int, last_rank: int, peak: int, placed: int | None) -> list:
        free = [b for b in order if offsets[b] < 0]
        state["work"] -= sum(fit_cost[b] for b in free)
        children = sorted((_lowest_fit(blocks, b, offsets), rank[b], b) for b in free)
        return [children, 0, last_x, last_rank, peak, placed]

    stack = [expand(0, -1, 0, None)]
    depth = 0
    while stack and state["work"] > 0 and best_arena > blocks.bound:
        frame = stack[-1]
        children, i, last_x, last_rank, peak, _ = frame
        if i == len(children):
            stack.pop()
            if frame[5] is not None:
                offsets[frame[5]] = -1
                depth -= 1
            continue
        frame[1] += 1
        state["work"] -= _STEP_US
        x, r, b = children[i]
        top_b = max(peak, x + int(blocks.peaks[b]))
        if (x, r) < (last_x, last_rank) or top_b >= best_arena:
            continue
        offsets[b] = x
        state["work"] -= bound_cost
        now = offsets >= 0
        above = np.clip(offsets[now, None] + h[now] - np.maximum(offsets[now], x)[:, None], 0, None)
        if x + (above.sum(axis=0) + h[~now].sum(axis=0)).max(initial=0) >= best_arena:
            offsets[b] = -1
        elif depth + 1 == n:
            best_arena, best_offsets = top_b, offsets.copy()
            offsets[b] = -1
        else:
            depth += 1
            stack.append(expand(x, r, top_b, b))
    return None if best_offsets is None else (best_arena, best_offsets)
