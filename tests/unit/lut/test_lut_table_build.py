"""The LUT table, the build loop (resume, failure mid-sweep, refinement, budget), the fixed cost
and the fusion analysis, on the synthetic device of lut_fakes (exact figures: the truth is known)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgekit.core.errors import DeviceError
from edgekit.lut.build import BuildOptions, build_lut
from edgekit.lut.fusion import analyze
from edgekit.lut.overhead import collapse_sessions, estimate_overhead, net_values
from edgekit.lut.table import COLUMNS, LutTable

SMALL = dict(start=40, max_rounds=0, arch_archs=0, zoo=False, budget_s=600)


def test_rows_are_keyed_with_provenance_and_a_rebuild_measures_nothing(fake_lut, fakes):
    table, report = fake_lut
    rows = table.rows()
    assert report.measured == len(rows) > 160          # pairs measure three variants each
    assert list(rows.columns) == list(COLUMNS)
    assert rows["row_key"].is_unique
    assert set(rows["device_id"]) == {"fake-linux"} and set(rows["method"]) == {"wallclock"}
    assert not rows["emulated"].any() and rows["trace_run_key"].str.startswith("fake-").all()
    ops = rows[rows["n_ops"] == 1]
    assert ops["f_macs"].notna().all() and (ops["latency_ms_p50"] > 0).all()
    assert set(table.summary()["sig_key"]) == set(ops["sig_key"])
    again = build_lut(fakes.FakeBackend(table.root), table, "linux", BuildOptions(start=160, max_rounds=0, arch_archs=3, zoo=False))
    assert again.measured == 0 and again.skipped > 160
    assert len(table.rows()) == len(rows)


def test_refinement_measures_around_the_worst_samples(fake_lut):
    table, report = fake_lut
    rows = table.rows()
    assert report.rounds == 1 and set(rows["round"]) == {0, 1}
    assert set(rows[rows["round"] == 1]["source"]) == {"refine", "repeat"}
    # a wall-clock device re-measures its worst samples in a new session (noise or sparsity?)
    assert (rows[rows["source"] == "repeat"]["run_set"] >= 1).all()
    assert len(report.worst_errors) == 1


def test_failure_mid_sweep_loses_nothing_and_the_rerun_resumes(tmp_path, fakes):
    table = LutTable(tmp_path, "fake-linux")
    with pytest.raises(DeviceError):
        build_lut(fakes.FakeBackend(tmp_path, fail_after=25), table, "linux", BuildOptions(**SMALL, chunk=10))
    assert len(table.rows()) == 25                      # every variant measured before the failure
    full = fakes.FakeBackend(tmp_path)
    report = build_lut(full, table, "linux", BuildOptions(**SMALL))
    assert report.skipped == 25 and full.measured == report.measured
    clean = LutTable(tmp_path / "clean", "fake-linux")
    build_lut(fakes.FakeBackend(tmp_path / "clean"), clean, "linux", BuildOptions(**SMALL))
    a = table.rows().sort_values("row_key")
    b = clean.rows().sort_values("row_key")
    assert list(a["row_key"]) == list(b["row_key"])
    assert np.array_equal(a["latency_ms_p50"].to_numpy(), b["latency_ms_p50"].to_numpy())


def test_budget_stops_the_build_and_compaction_keeps_every_row(tmp_path, fakes):
    import itertools

    ticks = itertools.count()      # one second passes at every look at the clock
    table = LutTable(tmp_path, "fake-linux")
    stopped = build_lut(fakes.FakeBackend(tmp_path), table, "linux",
                        BuildOptions(start=40, arch_archs=0, zoo=False, budget_s=4, chunk=4),
                        clock=lambda: float(next(ticks)))
    assert stopped.stopped_by_budget and stopped.measured == 12    # three chunks, then the budget is spent
    before = table.rows().sort_values("row_key").reset_index(drop=True)
    table.compact(min_parts=2)
    assert len(list((table.dir / "rows").glob("part-*.parquet"))) == 1
    assert before.equals(table.rows().sort_values("row_key").reset_index(drop=True))


def test_fixed_cost_and_fusion_are_recovered(fake_lut, fakes):
    table, _ = fake_lut
    rows = collapse_sessions(table.rows())
    o = estimate_overhead(rows)
    assert o.value == pytest.approx(fakes.OVERHEAD_MS, rel=1e-6)
    rules = analyze(rows, o)
    # the fake runtime runs a PAD feeding a VALID convolution for free: all of the PAD is saved
    pads = [rules[k] for k in ("pad_conv", "pad_dwconv") if k in rules and rules[k].samples >= 3]
    assert pads and all(r.fused and r.alpha == pytest.approx(1.0, abs=1e-6) for r in pads)
    assert not any(r.applies for k, r in rules.items() if not k.startswith("pad_"))
    net = net_values(rows, o)
    chains = (rows["family"] == "chain").to_numpy()
    ns = rows.loc[chains, "config"].map(lambda c: json.loads(c)["params"]["n"]).to_numpy()
    assert np.allclose(net[chains] / ns, o.per_op, rtol=1e-6)
