"""Few-shot adaptation to another device: learned per-kernel-type scaling from <= 20 models."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.core.errors import UsageError
from edgekit.predict.adapt import PARTS, adaptation_curve, fit_adapted, parts


def test_adaptation_learns_the_new_devices_relative_kernel_costs(fake_trained, fakes):
    pred, _, _, _, held_out = fake_trained
    # another device: depthwise 4x slower, pointwise 2x faster, a larger fixed cost
    scale = {"dwconv": 4.0, "conv1x1": 0.5, "conv": 1.5}
    graphs = [m.graph for m in held_out]
    target = np.array([fakes.graph_ms(g, scale, overhead_ms=0.02) for g in graphs])
    curve = adaptation_curve(pred, graphs, target, ks=(5, 10, 20), draws=8)
    assert set(curve) == {0, 5, 10, 20}
    assert curve[10]["spearman_rho"] > curve[0]["spearman_rho"]
    assert curve[10]["spearman_rho"] >= 0.95 and curve[20]["spearman_rho"] >= 0.95
    assert curve[20]["mape_pct"] < 15.0


def test_parts_split_the_prediction_and_the_fit_refuses_bad_sizes(fake_trained):
    pred, _, _, _, held_out = fake_trained
    P = parts(pred, [m.graph for m in held_out[:3]])
    n = len(PARTS)
    assert P.shape == (3, 3 * n + 1) and (P[:, n] == 1).all() and (P >= 0).all()
    predicted = [p.by_method["gbm"] - pred.overhead.value for p in pred.predict_many([m.graph for m in held_out[:3]])]
    assert np.allclose(P[:, :n].sum(axis=1), predicted, rtol=0.2)   # the parts are the per-kernel figures
    assert (P[:, n + 1:2 * n + 1].sum(axis=1) > 0).all()              # MACs of the groups
    with pytest.raises(UsageError):
        fit_adapted(P[:1], np.ones(1))
    with pytest.raises(UsageError, match="at most 20"):
        fit_adapted(np.ones((21, 3 * n + 1)), np.ones(21))
