"""The refit latency model and the RAM/flash offsets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgekit.core.errors import UsageError
from edgekit.nas.predictor import CostModel, ResourceModel
from edgekit.nas.space import FEATURES, preset_space


def _truth(space, arch) -> float:
    """A device whose latency is exactly linear in the cost terms (plus a fixed overhead)."""
    f = space.features(arch)
    w = {"conv_macs": 9e-5, "pw_macs": 5e-5, "dw_macs": 2e-4, "fc_macs": 1e-4, "conv_out": 1e-3, "pw_out": 8e-4,
         "dw_out": 1e-3, "add_elems": 6e-4, "mean_elems": 3e-4, "conv_n": 0.02, "pw_n": 0.03, "dw_n": 0.04,
         "add_n": 0.01, "mean_n": 0.02, "fc_n": 0.01}
    return 0.3 + sum(w.get(k, 0.0) * f[k] for k in FEATURES)


def test_cost_model_recovers_an_exactly_linear_device():
    space = preset_space("mcu-ir", "1d", 3, 3, 52)
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(30)]
    model = CostModel.fit(space, archs, [_truth(space, a) for a in archs])
    assert model.rel_std < 0.01
    for a in [space.sample(rng) for _ in range(20)]:
        mean, std = model.predict(a)
        assert mean == pytest.approx(_truth(space, a), rel=0.01)
        assert std == pytest.approx(mean * model.rel_std)


def test_few_measurements_use_fewer_terms_and_a_prior_uncertainty():
    space = preset_space("mcu-ir", "1d", 3, 3, 52)
    one = CostModel.fit(space, [space.smallest()], [1.0])
    assert one.offset == 0.0 and one.rel_std == pytest.approx(0.15)
    assert one.predict(space.smallest())[0] == pytest.approx(1.0)
    assert one.predict(space.largest())[0] > 10.0
    with pytest.raises(UsageError):
        CostModel.fit(space, [], [])


def test_torch_prediction_of_one_hot_probabilities_equals_prediction():
    space = preset_space("mcu-ir", "1d", 3, 3, 52)
    rng = np.random.default_rng(1)
    archs = [space.sample(rng) for _ in range(12)]
    model = CostModel.fit(space, archs, [_truth(space, a) for a in archs])
    arch = space.sample(rng)
    probs = {k: torch.from_numpy(v) for k, v in space.one_hot(arch).items()}
    assert float(model.torch_predict(space.cost_terms(probs))) == pytest.approx(model.predict(arch)[0], rel=1e-9)


def test_resource_model_adds_the_measured_offset():
    space = preset_space("mcu-ir", "1d", 3, 3, 52)
    archs = [space.smallest(), space.largest()]
    est = [space.memory_estimate(a) for a in archs]
    m = ResourceModel.fit(space, archs, [e["weights_bytes"] + 11000 for e in est],
                          [e["arena_bytes"] + 17000 for e in est])
    flash, ram = m.predict(space.largest())
    assert flash == est[1]["weights_bytes"] + 11000 and ram == est[1]["arena_bytes"] + 17000


def _layer_rows(space, arch, cost):
    """Per-layer rows of the materialised network (hooks on its convolutions), costed by ``cost``."""
    from edgekit.nas.materialize import build_model

    model = build_model(space, arch).eval()
    rows = []

    def hook(m, _inp, out):
        kind = "dw" if m.groups > 1 else ("pw" if m.kernel_size == (1, 1) else "conv")
        rows.append({"kind": kind, "work": float(out[0].numel() * m.weight[0].numel()), "elems": float(out[0].numel()),
                     "pix": float(out[0].numel() // out.shape[1])})

    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_hook(hook)
    model(torch.zeros(1, *space.input_shape(arch.resolution)[1:]))
    f = space.features(arch)
    rows += [{"kind": "add", "work": 0.0, "elems": f["add_elems"] / f["add_n"]}] * int(f["add_n"])
    rows += [{"kind": "mean", "work": 0.0, "elems": f["mean_elems"]}, {"kind": "fc", "work": f["fc_macs"], "elems": 3.0}]
    for r in rows:
        a, b, c = cost[r["kind"]]
        r["ms"] = a * r["work"] + b * r["elems"] + c
    return rows


def test_per_layer_model_learns_operator_kinds_from_a_few_networks():
    from edgekit.nas.predictor import LayerCostModel

    space = preset_space("mcu-ir", "1d", 3, 3, 52)
    cost = {"conv": (5e-4, 2e-3, 0.01), "pw": (2e-4, 3e-3, 0.02), "dw": (8e-4, 4e-3, 0.03),
            "add": (0.0, 3e-3, 0.01), "mean": (0.0, 1e-3, 0.04), "fc": (1e-3, 0.0, 0.02)}
    rng = np.random.default_rng(5)
    archs = [space.sample(rng) for _ in range(4)]
    measured = []
    for a in archs:
        rows = _layer_rows(space, a, cost)
        measured.append({"arch": a, "total_ms": 0.05 + sum(r["ms"] for r in rows), "rows": rows})
    model = LayerCostModel.fit(space, measured)
    assert model.offset == pytest.approx(0.05, abs=1e-3)
    for a in [space.sample(rng) for _ in range(15)]:
        truth = 0.05 + sum(r["ms"] for r in _layer_rows(space, a, cost))
        assert model.predict(a)[0] == pytest.approx(truth, rel=0.02)
