"""Configuration space, graph writer and canonical signatures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edgekit.core.errors import UnsupportedModelError
from edgekit.lut.signatures import FEATURES, graph_signatures
from edgekit.lut.space import FAMILIES, Config, config_from_unit, neighbours, sobol_start, variant_bytes
from edgekit.tflite.reader import read_tflite_bytes
from edgekit.tflite.stats import model_stats

_FAMILY_TYPES = {"conv": {"conv"}, "conv1x1": {"conv1x1"}, "dwconv": {"dwconv"}, "fc": {"fc"}, "avgpool": {"avgpool"},
                 "maxpool": {"maxpool"}, "add": {"add"}, "mean": {"mean"}, "pad": {"pad"}, "reshape": {"reshape"},
                 "softmax": {"softmax"}}


def test_sobol_start_is_deterministic_and_covers_every_family():
    a = sobol_start(120, seed=3)
    b = sobol_start(120, seed=3)
    assert [c.key for c, _ in a] == [c.key for c, _ in b]
    assert {c.family for c, _ in a} == {n for n, f in FAMILIES.items() if f.dims > 0}   # all but "arch"
    assert len({c.key for c, _ in a}) == len(a)          # no duplicates
    assert [c.key for c, _ in sobol_start(120, seed=4)] != [c.key for c, _ in a]


@pytest.mark.parametrize("family", sorted(n for n, f in FAMILIES.items() if f.dims > 0))
def test_every_family_writes_valid_int8_graphs(family):
    from ai_edge_litert import interpreter as litert

    rng = np.random.default_rng(0)
    for _ in range(3):
        cfg = config_from_unit(family, rng.random(FAMILIES[family].dims))
        assert Config.from_json(cfg.to_json()) == cfg
        for variant in FAMILIES[family].variants:
            data = variant_bytes(cfg, variant)
            assert data == variant_bytes(cfg, variant)       # same configuration, same bytes
            graph = read_tflite_bytes(data, "g")
            sigs = graph_signatures(graph)
            if family in _FAMILY_TYPES:
                assert [s.kernel_type for s in sigs] == list(_FAMILY_TYPES[family])
            assert all(t.dtype == "int8" for t in graph.tensors if not t.is_constant)
            macs = [s.macs for s in sigs]
            assert sum(macs) == model_stats(graph).total_macs   # MACs agree with edgekit.tflite.stats
            interp = litert.Interpreter(model_content=data,
                                        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
            interp.allocate_tensors()
            interp.invoke()


def test_signature_is_canonical_across_models():
    """The same operator in two different files has one signature; other options change it."""
    cfg = Config.make("conv", {"h": 12, "w": 12, "cin": 8, "cout": 16, "kh": 3, "kw": 3, "sh": 1, "sw": 1,
                               "act": "RELU6", "padding": "SAME"})
    s1 = graph_signatures(read_tflite_bytes(variant_bytes(cfg, "op", seed=1), "a"))[0]
    s2 = graph_signatures(read_tflite_bytes(variant_bytes(cfg, "op", seed=2), "b"))[0]
    assert s1.key == s2.key and s1.features == s2.features
    other = dataclasses.replace(cfg, params=tuple((k, "RELU" if k == "act" else v) for k, v in cfg.params))
    s3 = graph_signatures(read_tflite_bytes(variant_bytes(other, "op"), "c"))[0]
    assert s3.key != s1.key
    f = dict(zip(FEATURES, s1.features))
    assert f["macs"] == 12 * 12 * 16 * 3 * 3 * 8 and f["out_elems"] == 12 * 12 * 16 and f["weight_elems"] == 16 * 9 * 8


def test_one_dimensional_layouts_orient_the_kernel_along_the_sequence():
    seen = set()
    for cfg, _ in sobol_start(400, seed=0, families=("dwconv",)):
        p = cfg.p
        if p["h"] == 1:
            assert p["kh"] == 1 and p["sh"] == 1
            seen.add("1xT")
        elif p["w"] == 1:
            assert p["kw"] == 1 and p["sw"] == 1
            seen.add("Tx1")
    assert seen == {"1xT", "Tx1"}


def test_neighbours_stay_in_the_family_and_near():
    rng = np.random.default_rng(1)
    u = np.full(FAMILIES["conv1x1"].dims, 0.5)
    near = neighbours("conv1x1", u, 10, rng)
    assert all(c.family == "conv1x1" for c, _ in near)
    assert all(np.abs(v - u).max() < 0.4 for _, v in near)


def test_unknown_operator_is_an_error_never_zero():
    cfg = Config.make("add", {"h": 4, "w": 4, "c": 8})
    graph = read_tflite_bytes(variant_bytes(cfg, "op"), "g")
    op = dataclasses.replace(graph.operators[0], opcode="TANH")
    bad = dataclasses.replace(graph, operators=(op,))
    with pytest.raises(UnsupportedModelError, match="TANH"):
        graph_signatures(bad)


def test_search_space_and_zoo_operators_become_exact_configurations():
    """Each operator of a sampled architecture (and of the MLPerf Tiny models) is written again as a
    single-operator model with exactly its signature: the LUT holds what the models use."""
    from edgekit.core.assets import assets_dir
    from edgekit.lut.archgraph import ZOO, arch_start, config_of, write_int8
    from edgekit.lut.archspace import sample_architectures
    from edgekit.tflite.reader import read_tflite

    graphs = [read_tflite_bytes(write_int8(s), s.key) for s in sample_architectures(6, seed=7)]
    zoo_dir = assets_dir() / "models" / "mlperf_tiny"
    graphs += [read_tflite(zoo_dir / f"{n}.tflite") for n in ZOO if (zoo_dir / f"{n}.tflite").is_file()]
    covered = 0
    for g in graphs:
        for sig in graph_signatures(g):
            cfg = config_of(sig)
            if cfg is None:
                continue
            covered += 1
            again = graph_signatures(read_tflite_bytes(variant_bytes(cfg, "op"), "again"))
            assert [s.text for s in again] == [sig.text]
    assert covered >= sum(len(g.operators) for g in graphs[:6])      # every architecture operator
    assert len(arch_start(6, seed=7)) == len({config_of(s).key for g in graphs[:6] for s in graph_signatures(g)})


def test_arch_family_writes_the_architecture():
    from edgekit.lut.archgraph import arch_models, write_int8
    from edgekit.lut.archspace import ArchSpec

    for cfg, u in arch_models(3, seed=11):
        assert cfg.family == "arch" and u.size == 0
        via_family = graph_signatures(read_tflite_bytes(variant_bytes(cfg, "model"), "a"))
        direct = graph_signatures(read_tflite_bytes(write_int8(ArchSpec.from_json(cfg.p["spec"])), "b"))
        assert [s.text for s in via_family] == [s.text for s in direct]
