"""Predictor on the synthetic device: round trip through LightGBM text + JSON, accuracy on
held-out architectures, intervals, unknown operators, MCU-style figures."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from edgekit.core.errors import UnsupportedModelError
from edgekit.predict.evaluate import METHODS, accuracy, evaluate, format_table, write_outputs
from edgekit.predict.io import load_predictor, save_predictor


def test_round_trip_gives_the_same_predictions(fake_trained, tmp_path):
    pred, table, _, _, held_out = fake_trained
    d = save_predictor(pred, tmp_path / "p")
    files = sorted(p.name for p in d.iterdir())
    assert "predictor.json" in files and "lut.json" in files
    assert all(f.endswith((".json", ".txt")) for f in files)                  # never a pickle
    assert any(f.startswith("kernel-conv-") for f in files) and any(f.startswith("correction-") for f in files)
    meta = json.loads((d / "predictor.json").read_text())["meta"]
    assert meta["device_id"] == "fake-linux" and meta["figure"] == "latency_ms_p50" and meta["method"] == "wallclock"
    assert meta["versions"]["lightgbm"] and meta["lut_rows"] == len(table.rows())
    assert set(meta["lut_trace_ids"]) == set(table.rows()["trace_run_key"])
    assert len(meta["whole_trace_ids"]) == meta["whole_models"]["arch"] + meta["whole_models"]["lut-unit"]
    loaded = load_predictor(d)
    graphs = [m.graph for m in held_out]
    a, b = pred.predict_many(graphs), loaded.predict_many(graphs)
    for x, y in zip(a, b):
        assert x.by_method == y.by_method and x.interval == y.interval
        assert x.method == "modelled" and x.unit == "ms"


def test_accuracy_on_held_out_architectures(fake_trained, tmp_path):
    pred, _, _, train, held_out = fake_trained
    assert not {m.name for m in held_out} & {m.name for m in train}
    res = evaluate(pred, held_out)
    t = res.table["all"]
    assert set(t) == set(METHODS) and t["gbm"]["n"] == len(held_out)
    # what this small synthetic set reaches (the fake device is exact, with one cache effect and
    # one fusion that the per-kernel models and the correction must learn)
    assert t["gbm_corrected"]["mape_pct"] < 3.0
    assert t["gbm_corrected"]["within10_pct"] >= 95.0
    assert t["gbm_corrected"]["kendall_tau"] > 0.9
    assert t["gbm_corrected"]["mape_pct"] < t["flops"]["mape_pct"]
    assert "LightGBM + whole-model correction" in format_table(res)
    files = write_outputs(res, tmp_path)
    assert files["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(files["csv"].read_text().splitlines()) == len(held_out) + 1


def test_fusion_is_charged_once(fake_trained, fakes):
    pred, _, _, _, held_out = fake_trained
    assert pred.rules["pad_conv"].fused or pred.rules["pad_dwconv"].fused
    with_pad = [m for m in held_out if any(op.opcode == "PAD" for op in m.graph.operators)]
    assert with_pad
    p = pred.predict(with_pad[0].graph)
    assert p.fused_pairs >= 1
    unfused = replace(pred, rules={k: replace(r, fused=False, alpha=0.0, beta=0.0) for k, r in pred.rules.items()})
    assert unfused.predict(with_pad[0].graph).by_method["gbm"] > p.by_method["gbm"]


def test_interval_and_labels(fake_trained):
    pred, _, _, _, held_out = fake_trained
    for p, m in zip(pred.predict_many([m.graph for m in held_out]), held_out):
        assert p.interval[0] <= p.value <= p.interval[1]
        assert p.method == "modelled" and p.latency_ms == p.value and p.energy_mj is None
        assert 0.0 <= p.lut_hit_share <= 1.0 and p.n_ops == len(m.graph.operators)


def test_unknown_operator_in_a_model_is_an_error(fake_trained):
    pred, _, _, _, held_out = fake_trained
    g = held_out[0].graph
    ops = list(g.operators)
    ops[1] = replace(ops[1], opcode="HARD_SWISH")
    with pytest.raises(UnsupportedModelError, match="HARD_SWISH"):
        pred.predict(replace(g, operators=tuple(ops)))
    from edgekit.predict.gbm import KernelModels

    kept = {k: v for k, v in pred.kernels.models.items() if k != "dwconv"}
    missing = replace(pred, kernels=KernelModels(kept, "fake-linux"))
    with pytest.raises(UnsupportedModelError, match="dwconv"):
        missing.predict(g)


def test_accuracy_metrics_match_their_definitions():
    from scipy.stats import kendalltau, spearmanr

    rng = np.random.default_rng(0)
    meas = rng.uniform(1, 10, 50)
    pred = meas * rng.uniform(0.85, 1.15, 50)
    m = accuracy(pred, meas)
    rel = np.abs(pred / meas - 1)
    assert m["mape_pct"] == pytest.approx(rel.mean() * 100)
    assert m["within10_pct"] == pytest.approx((rel <= 0.1).mean() * 100)
    assert m["within5_pct"] == pytest.approx((rel <= 0.05).mean() * 100)
    assert m["rmse"] == pytest.approx(np.sqrt(((pred - meas) ** 2).mean()))
    assert m["kendall_tau"] == pytest.approx(kendalltau(pred, meas).statistic)
    assert m["spearman_rho"] == pytest.approx(spearmanr(pred, meas).statistic)
