"""edgekit.codegen.planner on hand-built requests and graphs.

Convention checked throughout: a buffer occupies align_up(size_bytes, alignment) bytes, and the
bounds (plain and in-place) are sums of those aligned sizes; with alignment 1 they are raw bytes.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.codegen.lifetimes import PlanError, scratch_id
from edgekit.codegen.planner import (ArenaPlan, BufferRequest, is_view_op, plan_arena, plan_graph,
                                     requests_from_graph, validate_plan)
from edgekit.core.errors import EdgekitError, UnsupportedModelError
from edgekit.tflite.ir import Graph, Operator, Tensor

R = BufferRequest


def _overlap(a_lo: int, a_size: int, b_lo: int, b_size: int) -> bool:
    return a_lo < b_lo + b_size and b_lo < a_lo + a_size


def test_chain_reaches_the_plain_bound_with_disjoint_live_buffers():
    reqs = [R(0, 100, -1, 0), R(1, 300, 0, 1), R(2, 50, 1, 2), R(3, 200, 2, 3)]
    plan = plan_arena(reqs, 3, alignment=1)
    assert plan.live_bytes_per_op == (400, 350, 250)       # op 0: 100 + 300; op 1: 300 + 50; ...
    assert plan.lower_bound_bytes == 400
    assert plan.lower_bound_bytes == max(plan.live_bytes_per_op)
    assert plan.arena_bytes == 400 and plan.alignment == 1
    for a in reqs:
        for b in reqs:
            if a.id < b.id and a.first_op <= b.last_op and b.first_op <= a.last_op:
                assert not _overlap(plan.offsets[a.id], a.size_bytes, plan.offsets[b.id], b.size_bytes)


def test_alignment_rounds_offsets_sizes_and_bound():
    reqs = [R(0, 1, -1, 0), R(1, 17, 0, 1), R(2, 33, 0, 2), R(3, 5, 1, 2)]
    plan = plan_arena(reqs, 2, alignment=16)
    # aligned sizes 16, 32, 48, 16 -> op 0: 16+32+48, op 1: 32+48+16, op 2 (outputs) 48+16
    assert plan.live_bytes_per_op == (96, 96)
    assert plan.lower_bound_bytes == 96 == plan.arena_bytes
    assert all(off % 16 == 0 for off in plan.offsets.values())
    raw = plan_arena(reqs, 2, alignment=1)
    assert raw.live_bytes_per_op == (1 + 17 + 33, 17 + 33 + 5)
    assert raw.lower_bound_bytes == 55 == raw.arena_bytes


def test_inplace_chain_goes_below_the_plain_bound():
    # input -> op0 -> a -> op1 -> b (output); both ops may write over their input
    reqs = [R(0, 1000, -1, 0), R(1, 1000, 0, 1, inplace_of=0), R(2, 1000, 1, 2, inplace_of=1)]
    plan = plan_arena(reqs, 2)
    assert plan.lower_bound_bytes == 2016 and plan.inplace_lower_bound_bytes == 1008   # 1000 -> 1008
    assert plan.arena_bytes == 1008
    assert plan.offsets[0] == plan.offsets[1] == plan.offsets[2]
    assert plan.inplace_ids == frozenset({1, 2})


def test_inplace_output_may_grow_past_its_input():
    # a 1x1 conv 8 -> 16 channels written over its input, next to a buffer live only before it
    reqs = [R(0, 64, -1, 1), R(1, 32, 0, 1), R(2, 64, 1, 2, inplace_of=1), R(3, 32, -1, 0)]
    plan = plan_arena(reqs, 2, alignment=16)
    assert plan.lower_bound_bytes == 160                    # op 1: 64 + 32 + 64
    assert plan.inplace_lower_bound_bytes == 128            # op 0: 64 + 32 + 32 and op 1: 64 + 64
    assert plan.arena_bytes == 128
    assert plan.offsets[2] == plan.offsets[1] and 2 in plan.inplace_ids


def test_inplace_not_taken_when_it_does_not_help_and_never_partial():
    reqs = [R(0, 10, -1, 0), R(1, 10, 0, 1, inplace_of=0), R(2, 500, 1, 1)]
    plan = plan_arena(reqs, 2, alignment=1)
    # peak is op 1 (10 + 500) where no pair overlaps, so the in-place bound equals the plain one
    assert plan.inplace_lower_bound_bytes == plan.lower_bound_bytes == plan.arena_bytes == 510
    # in place gains nothing here, and in-place kernels may be slower: the planner must not take it
    assert 1 not in plan.inplace_ids
    assert not _overlap(plan.offsets[0], 10, plan.offsets[1], 10)


def test_validate_rejects_a_partner_overlap_that_the_plan_does_not_declare():
    import dataclasses

    reqs = [R(0, 16, -1, 0), R(1, 16, 0, 1, inplace_of=0), R(2, 16, 0, 1)]
    plan = plan_arena(reqs, 2, alignment=16)
    assert 1 in plan.inplace_ids
    validate_plan(reqs, plan)
    undeclared = dataclasses.replace(plan, inplace_ids=frozenset())
    with pytest.raises(PlanError):
        validate_plan(reqs, undeclared)


def test_scratch_and_zero_size_buffers():
    reqs = [R(0, 64, -1, 0), R(1, 64, 0, 1), R(scratch_id(0), 32, 0, 0), R(5, 0, 0, 1), R(2, 64, 1, 2)]
    plan = plan_arena(reqs, 2)
    assert plan.lower_bound_bytes == 160 == plan.arena_bytes
    assert scratch_id(0) == -1 and plan.offsets[-1] % 16 == 0
    assert plan.offsets[5] == 0


def test_views_get_their_root_offset():
    reqs = [R(0, 64, -1, 0), R(1, 64, 0, 2), R(2, 16, 2, 3)]
    plan = plan_arena(reqs, 3, views={7: 1, 8: 1})
    assert plan.offsets[7] == plan.offsets[8] == plan.offsets[1]
    with pytest.raises(PlanError):
        plan_arena(reqs, 3, views={7: 99})
    with pytest.raises(PlanError):
        plan_arena(reqs, 3, views={2: 1})


@pytest.mark.parametrize("reqs, num_ops", [
    ([R(0, 8, -1, 0), R(0, 8, 0, 1)], 1),          # duplicate id
    ([R(0, -1, -1, 0)], 1),                         # negative size
    ([R(0, 8, 1, 0)], 2),                           # ends before it starts
    ([R(0, 8, 0, 3)], 2),                           # past the graph outputs
    ([R(0, 8, 2, 2)], 2),                           # written after the last op
    ([R(0, 8, -1, 1), R(1, 8, 0, 1, inplace_of=0)], 2),   # partner still read after op 0
    ([R(0, 8, -1, 0), R(1, 8, 0, 1, inplace_of=9)], 2),   # unknown partner
    ([R(0, 8, 1, 1), R(1, 8, 1, 2, inplace_of=0)], 2),    # partner written by the same op
])
def test_invalid_requests_raise_plan_error(reqs, num_ops):
    with pytest.raises(PlanError) as e:
        plan_arena(reqs, num_ops)
    assert isinstance(e.value, EdgekitError) and e.value.hint


_REQS = [R(0, 32, -1, 0), R(1, 32, 0, 1, inplace_of=0), R(2, 48, 1, 2)]
_GOOD = ArenaPlan(offsets={0: 48, 1: 48, 2: 0}, arena_bytes=80, lower_bound_bytes=80,
                  live_bytes_per_op=(64, 80), method="by hand", alignment=16,
                  inplace_lower_bound_bytes=80, inplace_ids=frozenset({1}))


@pytest.mark.parametrize("change, message", [
    ({"offsets": {0: 0, 1: 0, 2: 16}}, "buffers 1 and 2 are live together and overlap"),
    ({"offsets": {0: 48, 1: 32, 2: 0}, "inplace_ids": frozenset()}, "buffers 0 and 1 .* overlap"),
    ({"offsets": {0: 48, 1: 40, 2: 0}}, "unaligned"),
    ({"offsets": {0: 48, 2: 0}}, "buffer 1 has no offset"),
    ({"arena_bytes": 64, "lower_bound_bytes": 80}, "outside the 64-byte arena"),
    ({"arena_bytes": 100}, "not a multiple of 16"),
    ({"lower_bound_bytes": 10}, "do not match"),
    ({"live_bytes_per_op": (64, 64)}, "do not match"),
    ({"inplace_ids": frozenset({2})}, "reported in place|live together and overlap"),
    ({"inplace_lower_bound_bytes": 96}, "below its own lower bound"),
])
def test_validate_plan_rejects_broken_plans(change, message):
    validate_plan(_REQS, _GOOD)
    fields = {k: getattr(_GOOD, k) for k in ArenaPlan.__dataclass_fields__}
    fields.update(change)
    with pytest.raises(PlanError, match=message):
        validate_plan(_REQS, ArenaPlan(**fields))


def test_validate_plan_checks_views():
    validate_plan(_REQS, ArenaPlan(**{**_GOOD.__dict__, "offsets": {**_GOOD.offsets, 9: 0}}), views={9: 2})
    with pytest.raises(PlanError, match="view 9"):
        validate_plan(_REQS, ArenaPlan(**{**_GOOD.__dict__, "offsets": {**_GOOD.offsets, 9: 16}}),
                      views={9: 2})


def test_inplace_used_only_when_it_lowers_the_arena():
    plan = plan_arena(_REQS, 2)
    assert plan.arena_bytes == 80 and plan.inplace_ids == frozenset()


def test_same_input_same_plan_and_order_independent_arena():
    rng = np.random.default_rng(7)
    reqs = []
    for i in range(40):
        f = int(rng.integers(-1, 20))
        reqs.append(R(i, int(rng.integers(1, 4000)), f, int(min(20, f + rng.integers(0, 5)))))
    a, b = plan_arena(reqs, 20), plan_arena(list(reqs), 20)
    assert a == b
    c = plan_arena(list(reversed(reqs)), 20)
    assert c.arena_bytes == a.arena_bytes and c.lower_bound_bytes == a.lower_bound_bytes


def test_empty_problem():
    plan = plan_arena([], 3)
    assert plan.arena_bytes == 0 and plan.lower_bound_bytes == 0 and plan.live_bytes_per_op == (0, 0, 0)


# ---------------------------------------------------------------------------------------------
# graphs


def _t(i, shape, dtype="int8", const=False, variable=False):
    data = np.zeros(shape, dtype=np.int8) if const else None
    return Tensor(i, f"t{i}", tuple(shape), dtype, data=data, is_variable=variable)


def _graph() -> Graph:
    # 0 input (1,8,8,4) -> CONV (w 1) -> 2 (1,8,8,4) -> DEPTHWISE (w 3) -> 4 -> ADD(2, 4) -> 5
    # -> RESHAPE -> 6 (1,256) -> FC (w 7, state 8) -> 9 output (1,10)
    tensors = (_t(0, (1, 8, 8, 4)), _t(1, (4, 1, 1, 4), const=True), _t(2, (1, 8, 8, 4)),
               _t(3, (1, 3, 3, 4), const=True), _t(4, (1, 8, 8, 4)), _t(5, (1, 8, 8, 4)),
               _t(6, (1, 256)), _t(7, (10, 256), const=True), _t(8, (1, 10), variable=True),
               _t(9, (1, 10), dtype="float32"))
    ops = (Operator(0, "CONV_2D", (0, 1, -1), (2,)),
           Operator(1, "DEPTHWISE_CONV_2D", (2, 3, -1), (4,)),
           Operator(2, "ADD", (2, 4), (5,)),
           Operator(3, "RESHAPE", (5,), (6,)),
           Operator(4, "FULLY_CONNECTED", (6, 7, 8), (9,)))
    return Graph("toy", tensors, ops, (0,), (9,))


def test_requests_from_graph_lifetimes_views_and_scratch():
    g = _graph()
    reqs, views = requests_from_graph(g, {1: 72, 4: 0}, {})
    by_id = {r.id: r for r in reqs}
    assert views == {6: 5}
    assert sorted(by_id) == [-2, 0, 2, 4, 5, 9]             # constants, state and the view are not requests
    assert (by_id[0].first_op, by_id[0].last_op) == (-1, 0)
    assert (by_id[2].first_op, by_id[2].last_op) == (0, 2)  # read again by the ADD
    assert (by_id[5].first_op, by_id[5].last_op) == (2, 4)  # root lives as long as its view
    assert (by_id[9].first_op, by_id[9].last_op) == (4, 5)  # graph output: live after the last op
    assert by_id[9].size_bytes == 40 and by_id[5].size_bytes == 256
    assert (by_id[-2].size_bytes, by_id[-2].first_op, by_id[-2].last_op) == (72, 1, 1)
    assert all(r.inplace_of is None for r in reqs)


def test_requests_from_graph_inplace_only_when_input_dies_there():
    g = _graph()
    reqs, _ = requests_from_graph(g, {}, {1: (2, 4), 2: (4, 5)})
    by_id = {r.id: r for r in reqs}
    assert by_id[4].inplace_of is None                      # 2 is read again by the ADD
    assert by_id[5].inplace_of == 4
    plan = plan_graph(g, {}, {1: (2, 4), 2: (4, 5)})
    assert plan.offsets[5] == plan.offsets[4] == plan.offsets[6]
    assert plan.arena_bytes < plan.lower_bound_bytes == 3 * 256
    with pytest.raises(PlanError):
        requests_from_graph(g, {}, {1: (0, 4)})             # 0 is not an input of op 1
    with pytest.raises(PlanError):
        requests_from_graph(g, {}, {9: (0, 2)})
    with pytest.raises(PlanError):
        requests_from_graph(g, {7: 16}, {})


def test_caller_marked_view_and_dynamic_shape():
    g = _graph()
    _, views = requests_from_graph(g, {}, {}, view_ops={2})
    assert views == {5: 2, 6: 2}                            # a view of a view resolves to the root
    bad = Graph("dyn", g.tensors[:2] + (_t(2, (-1, 8, 8, 4)),) + g.tensors[3:], g.operators, (0,), (9,))
    with pytest.raises(UnsupportedModelError):
        requests_from_graph(bad, {}, {})


def test_is_view_op():
    assert is_view_op("RESHAPE") and is_view_op("SQUEEZE") and is_view_op("EXPAND_DIMS")
    assert not is_view_op("CONV_2D") and not is_view_op("TRANSPOSE")
