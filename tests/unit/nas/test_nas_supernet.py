"""Weight sharing: a one-hot supernet forward is the extracted sub-network; saved candidates load back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgekit.nas.materialize import build_model, load_trained, save_arch, write_factory
from edgekit.nas.space import preset_space


def _scramble_bn(model: torch.nn.Module) -> None:
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=g) - 0.5)


@pytest.mark.parametrize("dims,res", [("1d", 52), ("2d", 12)])
def test_one_hot_supernet_equals_extracted_subnetwork(dims, res):
    from edgekit.nas.supernet import SuperNet

    space = preset_space("mcu-ir", dims, 3, 4, res)
    net = SuperNet(space, seed=1)
    _scramble_bn(net)
    net.eval()
    rng = np.random.default_rng(0)
    archs = [space.smallest(), space.largest()] + [space.sample(rng) for _ in range(8)]
    for arch in archs:
        x = torch.randn(3, *space.input_shape(arch.resolution)[1:], generator=torch.Generator().manual_seed(2))
        with torch.no_grad():
            a = net.forward_arch(x, arch)
            b = net.extract(arch).eval()(x)
        assert torch.allclose(a, b, atol=1e-5), arch.label()


def test_nb201_one_hot_supernet_equals_extracted_cell_network():
    from edgekit.nas.nb201 import NB201Space
    from edgekit.nas.nb201_net import NB201SuperNet

    space = NB201Space("nb201-1d", "1d", 3, 3, 24)
    net = NB201SuperNet(space, seed=0)
    _scramble_bn(net)
    net.eval()
    rng = np.random.default_rng(1)
    for arch in [space.smallest(), space.largest()] + [space.sample(rng) for _ in range(10)]:
        x = torch.randn(2, *space.input_shape(24)[1:])
        with torch.no_grad():
            assert torch.allclose(net.forward_arch(x, arch), net.extract(arch).eval()(x), atol=1e-5), arch.label()


def test_straight_through_gumbel_is_one_hot_with_soft_gradients():
    from edgekit.nas.supernet import gumbel_hard

    logits = torch.zeros(4, requires_grad=True)
    y = gumbel_hard(logits, 1.0, torch.Generator().manual_seed(0))
    assert sorted(y.detach().tolist()) == [0.0, 0.0, 0.0, 1.0]
    (y * torch.arange(4.0)).sum().backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0


def test_saved_candidate_loads_back_bit_identical(tmp_path):
    space = preset_space("mcu-ir", "1d", 3, 3, 52)
    arch = space.sample(np.random.default_rng(4))
    model = build_model(space, arch, seed=3).eval()
    save_arch(tmp_path / "arch.json", space, arch)
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    factory = write_factory(tmp_path, space.input_shape(arch.resolution))
    assert "model.py:build" in factory.read_text() or factory.name == "model.py"
    again = load_trained(tmp_path / "arch.json", tmp_path / "weights.pt")
    x = torch.randn(2, *space.input_shape(arch.resolution)[1:])
    with torch.no_grad():
        assert torch.equal(model(x), again(x))


def test_nb201_strings_and_dead_edges():
    from edgekit.nas.nb201 import OPS, NB201Space

    space = NB201Space("nb201-2d", "2d", 1, 10, 8)
    arch = space.decode([OPS.index(o) for o in
                         ("nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_1x1", "none", "nor_conv_3x3")])
    assert arch.label() == "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|"
    # node 1 feeds nothing that reaches the output: its incoming edge is dead and dropped
    dead = space.decode([OPS.index(o) for o in ("avg_pool_3x3", "none", "none", "skip_connect", "none", "none")])
    assert dead == space.smallest() and dead.key == space.smallest().key
    # a cell cut off from its input is repaired with a skip connection 3<-0
    cut = space.decode([0] * 6)
    assert cut.ops[3] == "skip_connect"
