"""edgekit.codegen.planner on seeded random problems: every plan valid, exact search optimal.

The checks here do not reuse the planner's code: overlap, bounds and the optimum are computed
from the requests by the test itself (the optimum by enumerating every integer offset).
"""

from __future__ import annotations

import random
import time

import pytest

from edgekit.codegen.lifetimes import PlanError
from edgekit.codegen.planner import ArenaPlan, BufferRequest, plan_arena, validate_plan

R = BufferRequest


def _aligned(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _live_together(a: BufferRequest, b: BufferRequest) -> bool:
    return a.first_op <= b.last_op and b.first_op <= a.last_op


def _may_share(a: BufferRequest, b: BufferRequest) -> bool:
    return a.inplace_of == b.id or b.inplace_of == a.id


def _plain_bound(reqs, num_ops, a):
    return max((sum(_aligned(r.size_bytes, a) for r in reqs if r.first_op <= t <= r.last_op)
                for t in range(-1, num_ops + 1)), default=0)


def _check_independently(reqs, num_ops, a, plan: ArenaPlan):
    top = 0
    for r in reqs:
        off = plan.offsets[r.id]
        assert off % a == 0 and off >= 0
        top = max(top, off + _aligned(r.size_bytes, a))
    assert top <= plan.arena_bytes and plan.arena_bytes % a == 0
    for i, x in enumerate(reqs):
        for y in reqs[i + 1:]:
            sx, sy = _aligned(x.size_bytes, a), _aligned(y.size_bytes, a)
            if not (sx and sy and _live_together(x, y)):
                continue
            ox, oy = plan.offsets[x.id], plan.offsets[y.id]
            if ox < oy + sy and oy < ox + sx:
                assert _may_share(x, y) and ox == oy, (x, y, plan)
    assert plan.lower_bound_bytes == _plain_bound(reqs, num_ops, a)
    assert plan.inplace_lower_bound_bytes <= plan.arena_bytes
    if all(r.inplace_of is None for r in reqs):
        assert plan.inplace_lower_bound_bytes == plan.lower_bound_bytes <= plan.arena_bytes


def _dnn_like(rng: random.Random):
    """A chain of ops with skip connections, scratch buffers and in-place offers."""
    n_ops = rng.randint(1, 25)
    last = {}
    for k in range(n_ops + 1):
        last[k] = n_ops if k == n_ops else min(n_ops, k + (rng.randint(2, 4) if rng.random() < 0.2 else 0))
    reqs = []
    for k in range(n_ops + 1):
        size = rng.choice([1, 2, 3, 4, 6, 8, 12, 16]) * rng.choice([1, 16, 100, 1000])
        inplace = k - 1 if k >= 2 and last[k - 1] == k - 1 and rng.random() < 0.4 else None
        reqs.append(R(k, size, k - 1, last[k], inplace))
    reqs += [R(-(op + 1), rng.randint(0, 700), op, op) for op in range(n_ops) if rng.random() < 0.3]
    return reqs, n_ops


def _intervals(rng: random.Random, n: int, n_ops: int, max_size: int, inplace: bool = True):
    """Random lifetimes; each buffer that starts where another ends may be offered in place of it."""
    reqs = []
    for i in range(n):
        f = rng.randint(-1, n_ops - 1)
        reqs.append(R(i, rng.randint(0, max_size), f, rng.randint(f, min(n_ops, f + 4))))
    taken: set[int] = set()
    out = []
    for r in reqs:
        partners = [p.id for p in reqs if p.last_op == r.first_op and p.first_op < r.first_op
                    and p.id not in taken]
        if inplace and partners and rng.random() < 0.5:
            p = rng.choice(partners)
            taken.add(p)
            r = R(r.id, r.size_bytes, r.first_op, r.last_op, p)
        out.append(r)
    return out, n_ops


def test_500_random_problems_give_valid_plans():
    rng = random.Random(20240611)
    at_bound = 0
    for trial in range(500):
        if trial % 2:
            reqs, n_ops = _dnn_like(rng)
        else:
            reqs, n_ops = _intervals(rng, rng.randint(0, 30), rng.randint(1, 12), rng.choice([8, 100, 5000]))
        rng.shuffle(reqs)
        a = rng.choice([1, 4, 16])
        plan = plan_arena(reqs, n_ops, alignment=a, time_budget_s=0.05)
        validate_plan(reqs, plan)
        _check_independently(reqs, n_ops, a, plan)
        at_bound += plan.arena_bytes == plan.inplace_lower_bound_bytes
        # Moving a buffer onto another one live at the same op must be caught.
        clash = [(x, y) for x in reqs for y in reqs if x.id != y.id and x.size_bytes and y.size_bytes
                 and _live_together(x, y) and not _may_share(x, y)]
        if clash:
            x, y = clash[0]
            broken = ArenaPlan(**{**plan.__dict__, "offsets": {**plan.offsets, x.id: plan.offsets[y.id]}})
            with pytest.raises(PlanError):
                validate_plan(reqs, broken)
    print(f"{at_bound}/500 plans at the lower bound")
    assert at_bound >= 490


def _optimum(reqs, a: int) -> int:
    """Smallest arena over every aligned offset assignment (exhaustive, small problems only)."""
    sized = sorted((r for r in reqs if r.size_bytes), key=lambda r: -r.size_bytes)
    size = {r.id: _aligned(r.size_bytes, a) for r in sized}
    best = [sum(size.values())]
    offsets: dict[int, int] = {}

    def fits(r, off):
        for q in sized:
            o = offsets.get(q.id)
            if o is None or not _live_together(r, q):
                continue
            if off < o + size[q.id] and o < off + size[r.id] and not (_may_share(r, q) and o == off):
                return False
        return True

    def dfs(i, top):
        if top >= best[0]:
            return
        if i == len(sized):
            best[0] = top
            return
        r = sized[i]
        for off in range(0, best[0] - size[r.id], a):
            if fits(r, off):
                offsets[r.id] = off
                dfs(i + 1, max(top, off + size[r.id]))
                del offsets[r.id]

    dfs(0, 0)
    return best[0]


# Found by random search and shrunk: no placement reaches the bound of 18 (the optimum is 19).
_GAP = ([R(0, 3, 6, 7), R(2, 1, 4, 5), R(3, 5, 2, 2), R(5, 5, 6, 7), R(6, 2, 4, 6), R(7, 1, 2, 6),
         R(8, 7, 5, 7), R(9, 7, 2, 5), R(10, 3, 7, 7), R(11, 5, 2, 4)], 9)


def test_exact_search_matches_exhaustive_optimum():
    rng = random.Random(99)
    cases = [_GAP] + [_intervals(rng, rng.randint(2, 6), rng.randint(1, 5), 4) for _ in range(80)]
    above_bound = 0
    for reqs, n_ops in cases:
        plan = plan_arena(reqs, n_ops, alignment=1)
        opt = _optimum(reqs, 1)
        assert plan.arena_bytes == opt, (reqs, n_ops, plan)
        above_bound += opt > plan.inplace_lower_bound_bytes
        assert plan.method == "exact" or plan.arena_bytes == plan.inplace_lower_bound_bytes
    assert above_bound >= 1
    reqs, n_ops = _GAP
    plan = plan_arena(reqs, n_ops, alignment=1)
    assert plan.method == "exact" and plan.arena_bytes > plan.lower_bound_bytes


def test_search_is_budgeted_and_deterministic():
    reqs, n_ops = _GAP
    quick = [plan_arena(reqs, n_ops, alignment=1, time_budget_s=0.001) for _ in range(3)]
    assert quick[0] == quick[1] == quick[2]       # a node budget, not the clock, stops the search
    assert quick[0].method != "exact" and quick[0].arena_bytes >= 19


def test_large_problem_plans_fast():
    rng = random.Random(3)
    reqs, n_ops = _intervals(rng, 400, 300, 100_000)
    start = time.perf_counter()
    plan = plan_arena(reqs, n_ops)
    elapsed = time.perf_counter() - start
    _check_independently(reqs, n_ops, 16, plan)
    assert elapsed < 5.0
