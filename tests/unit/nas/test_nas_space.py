"""The inverted-residual space: genome round trips, presets, and exact expected cost terms."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from edgekit.core.errors import UsageError
from edgekit.nas.space import FEATURES, IRArch, IRSpace, StageArch, preset_space


def tiny() -> IRSpace:
    return IRSpace("t", "1d", 3, 3, (16, 24), stem_channels=4, stem_stride=2, stage_channels=(4, 8),
                   stage_strides=(1, 2), depths=(1, 2), widths=(0.5, 1.0), kernels=(3, 5), expansions=(1, 3))


@pytest.mark.parametrize("dims", ["1d", "2d"])
def test_decode_encode_round_trip_and_canonical_keys(dims):
    space = preset_space("mcu-ir", dims, 3, 5, 8)
    rng = np.random.default_rng(0)
    for _ in range(50):
        genes = [int(rng.integers(0, u + 1)) for u in space.upper_bounds()]
        arch = space.decode(genes)
        assert space.decode(space.encode(arch)) == arch
        assert space.canonical(genes) == space.encode(arch)
        assert IRArch.from_json(arch.to_json()) == arch
        assert len(arch.key) == 12 and arch.key == IRArch.from_json(arch.to_json()).key
    # genes of blocks beyond a stage's depth do not change the architecture
    g = list(space.encode(space.smallest()))
    g[5] = 2    # stage 0, block 1 kernel: unused at depth 1
    assert space.decode(g) == space.smallest()
    assert space.canonical(g) == space.encode(space.smallest())


def test_space_rejects_foreign_architectures():
    space = tiny()
    with pytest.raises(UsageError, match="not in space"):
        space.encode(IRArch(99, space.smallest().stages))
    bad = IRArch(16, (StageArch(1, 0.5, (7,), (1,)), StageArch(1, 0.5, (3,), (1,))))
    with pytest.raises(UsageError, match="kernels"):
        space.check(bad)
    with pytest.raises(UsageError, match="genome"):
        space.decode([0] * (space.n_genes - 1))


def test_smallest_and_largest_bound_every_cost_term():
    space = preset_space("mcu-ir", "1d", 3, 3, 52)
    lo, hi = space.features(space.smallest()), space.features(space.largest())
    rng = np.random.default_rng(1)
    for _ in range(30):
        f = space.features(space.sample(rng))
        for k in FEATURES:
            assert lo[k] <= f[k] <= hi[k], k


def test_expected_cost_terms_are_exact_expectations():
    """cost_terms(probabilities) equals the probability-weighted sum over every architecture."""
    space = tiny()
    rng = np.random.default_rng(2)
    probs = {name: rng.dirichlet(np.ones(len(ch))) for name, ch in space.gene_choices()}
    expected = {k: 0.0 for k in FEATURES}
    for genes in itertools.product(*[range(len(ch)) for _, ch in space.gene_choices()]):
        p = float(np.prod([probs[name][g] for (name, _), g in zip(space.gene_choices(), genes)]))
        for k, v in space.features(space.decode(genes)).items():
            expected[k] += p * v
    got = space.cost_terms(probs)
    for k in FEATURES:
        assert got[k] == pytest.approx(expected[k], rel=1e-9, abs=1e-9), k
    # the torch version agrees and is differentiable
    tprobs = {k: torch.tensor(v, requires_grad=True) for k, v in probs.items()}
    tt = space.cost_terms(tprobs)
    total = sum(tt[k] for k in FEATURES)
    total.backward()
    assert float(total.detach()) == pytest.approx(sum(expected.values()), rel=1e-6)
    assert tprobs["s1.width"].grad is not None


@pytest.mark.parametrize("dims", ["1d", "2d"])
def test_cost_terms_equal_the_macs_and_layers_of_the_materialised_network(dims):
    from edgekit.nas.materialize import build_model

    space = preset_space("mcu-ir", dims, 3, 3, 12)
    rng = np.random.default_rng(3)
    for arch in [space.smallest(), space.largest(), space.sample(rng), space.sample(rng)]:
        model = build_model(space, arch)
        got = {"conv_macs": 0, "pw_macs": 0, "dw_macs": 0, "conv_out": 0, "pw_out": 0, "dw_out": 0}
        convs = []

        def hook(m, _inp, out):
            kind = "dw" if m.groups > 1 else ("pw" if m.kernel_size == (1, 1) else "conv")
            got[f"{kind}_macs"] += out[0].numel() * m.weight[0].numel()
            got[f"{kind}_out"] += out[0].numel()
            convs.append(m)

        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.register_forward_hook(hook)
        model.eval()(torch.zeros(1, *space.input_shape(arch.resolution)[1:]))
        f = space.features(arch)
        for k, v in got.items():
            assert f[k] == v, (arch.label(), k)
        adds = sum(st.depth - 1 for st in arch.stages)
        assert f["conv_n"] + f["pw_n"] + f["dw_n"] == len(convs)
        assert f["add_n"] == adds and f["mean_n"] == 1 and f["fc_n"] == 1
        assert f["fc_macs"] == model.fc.weight.numel()


def test_unknown_preset_is_refused():
    with pytest.raises(UsageError, match="unknown space preset"):
        preset_space("huge", "1d", 3, 3, 52)
