"""edgekit.codegen.planner on the shared .tflite models.

Convention: the plain lower bound is the largest sum, over ops, of the live activations' sizes
rounded up to the plan's alignment; the test recomputes it from the graph on its own. With
alignment 1 it must equal the bounds measured independently in PLATFORM_NOTES.md ("Peer figures").
"""

from __future__ import annotations

import math
import time

import pytest

from _support import ASSETS, asset
from edgekit.codegen.planner import plan_arena, requests_from_graph, validate_plan
from edgekit.tflite.ir import Graph
from edgekit.tflite.reader import read_tflite

MODELS = sorted(p.relative_to(ASSETS).as_posix() for p in (ASSETS / "models").glob("*/*.tflite"))

# PLATFORM_NOTES.md, "Peer figures": lower bound (bytes, no alignment) and TFLM's reported arena.
PEERS = {
    "mlperf_tiny/kws_ref_model_int8": (16_000, 24_272),
    "mlperf_tiny/vww_96_int8": (55_296, 103_680),
    "mlperf_tiny/pretrainedResnet_quant": (49_152, 55_984),
    "mlperf_tiny/ad01_int8": (768, 3_984),
    "mlperf_tiny/str_ww_ref_model": (6_656, 16_640),
    "tflm_examples/micro_speech_quantized": (5_960, 7_584),
    "tflm_examples/person_detect": (55_296, 85_264),
}
MLPERF = ["mlperf_tiny/kws_ref_model_int8", "mlperf_tiny/vww_96_int8",
          "mlperf_tiny/pretrainedResnet_quant", "mlperf_tiny/ad01_int8"]
ELEMENTWISE = {"ADD", "SUB", "MUL", "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "LOGISTIC", "TANH",
               "HARD_SWISH", "ABS", "NEG"}
VIEWS = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS"}


def _params(rels):
    return rels or [pytest.param(None, marks=pytest.mark.skip(reason=f"no .tflite models under {ASSETS}/models"))]


def _graph(rel: str) -> Graph:
    return read_tflite(asset(f"models/{rel}.tflite" if not rel.endswith(".tflite") else rel))


def _is_activation(g: Graph, i: int) -> bool:
    return i >= 0 and g.tensors[i].data is None and not g.tensors[i].is_variable


def _independent_live(g: Graph, alignment: int) -> list[int]:
    """Live aligned bytes at each op, from the graph alone (reshape-like outputs alias inputs)."""
    root: dict[int, int] = {}
    for op in g.operators:
        if op.opcode in VIEWS and _is_activation(g, op.inputs[0]) and _is_activation(g, op.outputs[0]):
            root[op.outputs[0]] = root.get(op.inputs[0], op.inputs[0])
    span: dict[int, list[int]] = {}

    def use(i: int, t: int) -> None:
        if _is_activation(g, i):
            s = span.setdefault(root.get(i, i), [t, t])
            s[0], s[1] = min(s[0], t), max(s[1], t)

    for i in g.inputs:
        use(i, -1)
    for op in g.operators:
        for i in (*op.inputs, *op.outputs):
            use(i, op.index)
    for i in g.outputs:
        use(i, len(g.operators))
    size = {i: -(-g.tensors[i].nbytes // alignment) * alignment for i in span}
    return [sum(size[i] for i, (a, b) in span.items() if a <= t <= b) for t in range(len(g.operators))]


def _last_use(g: Graph) -> dict[int, int]:
    last: dict[int, int] = {}
    for op in g.operators:
        for i in op.inputs:
            last[i] = op.index
    for i in g.outputs:
        last[i] = len(g.operators)
    return last


def inplace_offers(g: Graph, pointwise: bool) -> dict[int, tuple[int, int]]:
    """Ops a kernel could run in place: depthwise with depth multiplier 1 (TinyEngine style),
    element-wise ops over an equal-shaped input that dies there, and with ``pointwise`` also
    1x1 stride-1 convolutions (pixel by pixel through a Cin-byte buffer; reverse pixel order
    when Cout > Cin)."""
    last = _last_use(g)
    offers = {}
    for op in g.operators:
        if len(op.outputs) != 1 or not op.inputs:
            continue
        out = g.tensors[op.outputs[0]]
        src = op.inputs[0]
        if op.opcode == "DEPTHWISE_CONV_2D":
            if op.options.get("depth_multiplier") == 1 and g.tensors[src].shape[-1] == out.shape[-1]:
                offers[op.index] = (src, out.index)
        elif op.opcode in ELEMENTWISE:
            dying = [i for i in op.inputs if _is_activation(g, i) and last[i] == op.index
                     and g.tensors[i].shape == out.shape and g.tensors[i].dtype == out.dtype]
            if dying:
                offers[op.index] = (dying[0], out.index)
        elif pointwise and op.opcode == "CONV_2D":
            w = g.tensors[op.inputs[1]].shape
            if w[1:3] == (1, 1) and op.options.get("stride_w") == op.options.get("stride_h") == 1:
                offers[op.index] = (src, out.index)
    return offers


@pytest.mark.parametrize("rel", _params(MODELS))
def test_arena_equals_plain_bound_on_every_model(rel):
    g = _graph(rel)
    reqs, views = requests_from_graph(g, {}, {})
    start = time.perf_counter()
    plan = plan_arena(reqs, len(g.operators), alignment=16, views=views)
    assert time.perf_counter() - start < 1.0
    live = _independent_live(g, 16)
    assert plan.live_bytes_per_op == tuple(live)
    assert plan.arena_bytes == plan.lower_bound_bytes == max(live)
    validate_plan(reqs, plan, views)
    for t in range(len(g.tensors)):
        if _is_activation(g, t) and t in _last_use(g) or t in g.inputs:
            assert t in plan.offsets, f"activation {t} has no offset"


@pytest.mark.parametrize("rel", _params(sorted(PEERS)))
def test_unaligned_bound_matches_platform_notes(rel):
    g = _graph(rel)
    reqs, views = requests_from_graph(g, {}, {})
    plan = plan_arena(reqs, len(g.operators), alignment=1, views=views)
    assert plan.lower_bound_bytes == PEERS[rel][0] == plan.arena_bytes


@pytest.mark.parametrize("rel", _params(MODELS))
def test_inplace_plans_are_valid_and_reach_their_bound(rel):
    g = _graph(rel)
    for pointwise in (False, True):
        offers = inplace_offers(g, pointwise)
        reqs, views = requests_from_graph(g, {}, offers)
        plan = plan_arena(reqs, len(g.operators), views=views)
        validate_plan(reqs, plan, views)
        assert plan.arena_bytes == plan.inplace_lower_bound_bytes <= plan.lower_bound_bytes
        for op, (src, dst) in offers.items():
            if dst in plan.inplace_ids:
                assert plan.offsets[dst] == plan.offsets[views.get(src, src)]


@pytest.mark.parametrize("rel", _params(["mlperf_tiny/kws_ref_model_int8", "mlperf_tiny/vww_96_int8",
                                         "mlperf_tiny/str_ww_ref_model", "tflm_examples/person_detect",
                                         "tflm_examples/simple_add_model"]))
def test_inplace_goes_below_the_plain_bound(rel):
    g = _graph(rel)
    reqs, views = requests_from_graph(g, {}, inplace_offers(g, pointwise=True))
    plan = plan_arena(reqs, len(g.operators), views=views)
    assert plan.arena_bytes < plan.lower_bound_bytes
    assert plan.inplace_ids


def test_geometric_mean_against_tflm():
    """Plain bound alone: ~0.49 x TFLM; with in-place offers including 1x1 convs: <= 0.45."""
    ratios_plain, ratios_inplace = [], []
    for rel in MLPERF:
        g = _graph(rel)
        tflm = PEERS[rel][1]
        reqs, views = requests_from_graph(g, {}, {})
        ratios_plain.append(plan_arena(reqs, len(g.operators), views=views).arena_bytes / tflm)
        reqs, views = requests_from_graph(g, {}, inplace_offers(g, pointwise=True))
        ratios_inplace.append(plan_arena(reqs, len(g.operators), views=views).arena_bytes / tflm)
    gmean = [math.exp(sum(map(math.log, r)) / len(r)) for r in (ratios_plain, ratios_inplace)]
    assert 0.45 < gmean[0] < 0.5
    assert gmean[1] <= 0.45
