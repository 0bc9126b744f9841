"""Choosing what to measure, the winner, and the unreachable-target message (pure functions)."""

from __future__ import annotations

import pytest

from edgekit.core.errors import ResourceLimitError
from edgekit.nas.hil import CandidateRecord, choose_winner, select
from edgekit.nas.measure import Measurement
from edgekit.nas.space import preset_space
from edgekit.nas.strategies.base import Scored, Targets

SPACE = preset_space("mcu-ir", "1d", 3, 3, 52)
T = Targets(latency_ms=5.0, ram_bytes=64 * 1024, flash_bytes=256 * 1024)


def _arch(i: int):
    import numpy as np
    return SPACE.sample(np.random.default_rng(i))


def _scored(i: int, acc: float, lat: float, std: float = 0.05, ram: float = 20000, flash: float = 20000) -> Scored:
    return Scored(_arch(i), acc, lat, std, flash, ram)


def _record(i: int, acc: float, lat: float, ram: int = 20000, flash: int = 20000) -> CandidateRecord:
    m = Measurement("qemu-m4", True, "qemu-icount", lat, "icount-derived", ram, flash,
                    count_per_inference=int(lat * 25000), count_max=int(lat * 25000), clock_hz=25_000_000)
    return CandidateRecord(_arch(i), 1, "test", {"int8_val_acc": acc, "val_samples": 500}, m, None)


def test_select_prefers_landing_then_accuracy_then_closest_below():
    props = [_scored(1, 0.95, 4.90), _scored(2, 0.97, 4.20), _scored(3, 0.99, 5.50),
             _scored(4, 0.90, 4.99, std=0.0), _scored(5, 0.99, 4.0, ram=70000), _scored(6, 0.80, 4.7)]
    picks = select(props, set(), T, 4, z=1.0)
    # landing attempts ignore the uncertainty (1: 4.90 +- 0.05 may overshoot: the device decides)
    assert [p.arch for p, _ in picks] == [_arch(1), _arch(2), _arch(4), _arch(6)]
    assert "landing band" in picks[0][1] and "meet the targets" in picks[1][1]
    assert "landing band" in picks[2][1]
    # already measured architectures are never chosen again
    again = select(props, {_arch(1).key}, T, 1, z=1.0)
    assert again[0][0].arch == _arch(4)


def test_winner_is_decided_on_measured_figures_and_uses_the_budget_among_ties():
    records = [_record(1, 0.95, 4.0), _record(2, 0.953, 4.9), _record(3, 0.99, 5.01),
               _record(4, 0.99, 3.0, ram=70000), _record(5, 0.90, 4.99)]
    w = choose_winner(records, T)
    # 3 overshoots the latency, 4 the RAM; 1 and 2 are within one standard error: the fuller one wins
    assert w.arch == _arch(2)
    clear = choose_winner([_record(1, 0.99, 4.0), _record(2, 0.90, 4.95)], T)
    assert clear.arch == _arch(1)


def test_unreachable_target_names_the_fastest_architecture_and_its_measured_latency():
    records = [_record(1, 0.9, 6.2), _record(2, 0.95, 7.0)]
    with pytest.raises(ResourceLimitError) as e:
        choose_winner(records, T)
    msg = e.value.one_line()
    assert "fastest found" in msg and _arch(1).label() in msg
    assert "latency_ms_icount_derived = 6.200" in msg and "> 5 ms" in msg


def test_pareto_front_keeps_only_undominated_points():
    from edgekit.nas.report import pareto_front

    pts = [(1.0, 0.5, "a"), (2.0, 0.4, "b"), (2.0, 0.7, "c"), (3.0, 0.7, "d"), (4.0, 0.9, "e"), (0.5, 0.1, "f")]
    assert pareto_front(pts) == ["f", "a", "c", "e"]


def test_measured_seed_noise_widens_the_ties_towards_the_target():
    records = [_record(1, 0.998, 1.8), _record(2, 0.975, 4.9), _record(3, 0.95, 4.95)]
    assert choose_winner(records, T).arch == _arch(1)                   # binomial error alone: 1 wins
    assert choose_winner(records, T, seed_std=0.01).arch == _arch(2)    # 2.3 points apart: a tie, 4.8 not


def test_select_breaks_accuracy_ties_towards_the_target():
    props = [_scored(1, 0.99, 2.0), _scored(2, 0.98, 4.5), _scored(3, 0.97, 4.86), _scored(4, 0.90, 4.88)]
    assert select(props, set(), T, 2, z=1.0)[1][0].arch == _arch(1)           # no tolerance: most accurate
    picks = select(props, set(), T, 2, z=1.0, tol=0.015)
    assert picks[0][0].arch == _arch(3) and picks[1][0].arch == _arch(2)      # 1 and 2 tie: the fuller one
