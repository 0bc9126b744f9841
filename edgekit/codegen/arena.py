"""Arena plan of a lowered model: scratch per layer, which layers run in place, offsets.

Two kinds of rounds of the planner: every layer that may run in place offered with scratch
covering both ways of running it (always valid), and offered with the in-place scratch only,
shrinking the offer to what the planner merged until it merges everything offered; the smaller
arena wins. The kernels decide at run time from the pointers
(output == input means in place), so the same generated code is valid whichever way the planner
went, for the portable kernels and for CMSIS-NN (whose adapters run in-place layers by bands of
rows or pixels, or with edgekit's in-place kernels)."""

from __future__ import annotations

from dataclasses import dataclass

from edgekit.codegen.lifetimes import scratch_id
from edgekit.codegen.lower import LoweredModel
from edgekit.codegen.planner import ArenaPlan, plan_arena, requests_from_graph


@dataclass(frozen=True)
class MemoryPlan:
    plan: ArenaPlan
    views: dict[int, int]                 # view tensor -> root tensor
    scratch_bytes: dict[int, int]         # op index -> scratch bytes in the arena
    inplace: frozenset[int]               # op indices whose output overwrites their input

    def offset(self, tensor: int) -> int:
        return self.plan.offsets[self.views.get(tensor, tensor)]

    def scratch_offset(self, op_index: int) -> int:
        return self.plan.offsets[scratch_id(op_index)]


def plan_memory(model: LoweredModel, alignment: int = 16, inplace: bool = True) -> MemoryPlan:
    graph = model.graph
    n = len(graph.operators)
    view_ops = {layer.op_index for layer in model.layers if layer.kernel is None}
    base, views = requests_from_graph(graph, {}, {}, view_ops)
    last = {r.id: r.last_op for r in base}
    offers: dict[int, tuple[int, int]] = {}
    if inplace:
        for layer in model.layers:
            for cand in layer.inplace:
                root = views.get(cand, cand)
                if last.get(root) == layer.op_index and layer.outputs[0] not in views:
                    offers[layer.op_index] = (cand, layer.outputs[0])
                    break
    by_op = {layer.op_index: layer for layer in model.layers}

    def scratch_for(merged: set[int], offered: set[int]) -> dict[int, int]:
        out = {}
        for op, layer in by_op.items():
            if op in merged:
                out[op] = layer.inplace_scratch_bytes
            elif op in offered:
                out[op] = max(layer.scratch_bytes, layer.inplace_scratch_bytes)
            else:
                out[op] = layer.scratch_bytes
        return {k: v for k, v in out.items() if v > 0}

    def run(scratch: dict[int, int], pairs: dict[int, tuple[int, int]]) -> tuple[ArenaPlan, dict[int, int], set[int]]:
        requests, views_ = requests_from_graph(graph, scratch, pairs, view_ops)
        plan = plan_arena(requests, n, alignment=alignment, views=views_)
        merged = {op for op, (_, out) in pairs.items() if out in plan.inplace_ids}
        return plan, views_, merged

    # Round A: every candidate offered with scratch for both ways of running: always valid.
    scratch_a = scratch_for(set(), set(offers))
    plan_a, views_a, merged_a = run(scratch_a, offers)
    best = (plan_a, views_a, scratch_a, merged_a)
    # Round B: offer with the in-place scratch only; a plan is valid once every offered op is
    # merged. Ops the planner leaves out get their ordinary scratch and are offered no more.
    offered = set(offers)
    while offered:
        scratch_b = scratch_for(offered, set())
        plan_b, views_b, merged_b = run(scratch_b, {op: offers[op] for op in offered})
        if merged_b == offered:
            if plan_b.arena_bytes < best[0].arena_bytes:
                best = (plan_b, views_b, scratch_b, merged_b)
            break
        offered = merged_b
    best = _prune(best, offers, by_op, scratch_for, run)
    plan, views_, scratch, merged = best
    return MemoryPlan(plan, views_, scratch, frozenset(merged))


# Layers whose in-place run costs time (copies through a ring, or CMSIS-NN called on bands): keep
# them in place only where that lowers the arena. Element-wise layers run in place at no cost.
_SLOW_IN_PLACE = ("ek_conv.c", "ek_depthwise_conv.c")


def _prune(best, offers, by_op, scratch_for, run):
    plan, _, _, merged = best
    candidates = sorted((op for op in merged if by_op[op].kernel is not None
                         and by_op[op].kernel.file in _SLOW_IN_PLACE), key=lambda op: -by_op[op].macs)
    for op in candidates:
        trial = set(best[3]) - {op}
        scratch = scratch_for(trial, set())
        plan_t, views_t, merged_t = run(scratch, {o: offers[o] for o in trial})
        if merged_t == trial and plan_t.arena_bytes <= best[0].arena_bytes:
            best = (plan_t, views_t, scratch, merged_t)
    return best
