"""The MCU inverted-residual space: genes, sampling, and that the directly written int8 graph is
the one the TFLite converter makes of the Keras model, operator by operator."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.core.errors import UsageError
from edgekit.lut.signatures import graph_signatures
from edgekit.predict.archbuild import arch_tflite, build_torch
from edgekit.lut.archspace import ArchSpec, McuSpace, layer_plan, sample_architectures
from edgekit.tflite.reader import read_tflite


def test_genes_round_trip_and_bounds():
    rng = np.random.default_rng(0)
    for space in (McuSpace(), McuSpace.sensor(), McuSpace.sensor(layout="Tx1"), McuSpace.digits()):
        for _ in range(20):
            spec = space.sample(rng)
            assert space.decode(space.encode(spec)) == spec
            assert ArchSpec.from_json(spec.to_json()) == spec
        with pytest.raises(UsageError):
            space.decode([99] * len(space.genes()))


def test_held_out_sampling_excludes_the_training_keys():
    train = sample_architectures(50, seed=1)
    test = sample_architectures(50, seed=2, exclude={s.key for s in train})
    assert len({s.key for s in train}) == 50 and not {s.key for s in train} & {s.key for s in test}
    assert {s.input_kind for s in test} == {"image", "sensor"}
    assert {(s.height == 1, s.width == 1) for s in test if s.input_kind == "sensor"} == {(True, False), (False, True)}


@pytest.mark.slow
@pytest.mark.parametrize("space,genes", [(McuSpace.sensor(layout="Tx1"), [0, 0, 1, 1, 0, 2, 1, 0, 0, 1, 2, 0, 1, 0, 0, 0, 2]),
                                         (McuSpace(), [0, 1, 2, 0, 1, 0, 1, 1, 2, 2, 0, 0, 0, 1, 1, 0, 0])])
def test_written_graph_equals_the_converted_keras_model(space, genes, tmp_path):
    spec = space.decode(genes)
    written = read_tflite(arch_tflite(spec, tmp_path))
    converted = read_tflite(arch_tflite(spec, tmp_path, converter=True))
    assert [s.text for s in graph_signatures(written)] == [s.text for s in graph_signatures(converted)]


def test_torch_module_follows_the_plan():
    torch = pytest.importorskip("torch")
    spec = McuSpace.sensor().decode([1] + [0, 1, 0, 1] * 4)
    net = build_torch(spec)
    x = torch.zeros(1, spec.channels, spec.height, spec.width)
    assert tuple(net(x).shape) == (1, spec.num_classes)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    blocks = [p for p in layer_plan(spec) if p["op"] == "block"]
    assert len(convs) == 1 + sum(3 if b["e"] > 1 else 2 for b in blocks)
