"""SVDF lowering: int8 and int16 state variants, TFLite Micro's float32 scale products, state
outside the arena reset to its zero point, and the LiteRT guard for the int8-state model."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from _support import asset_model
from edgekit.codegen.generate import generate
from edgekit.codegen.references import litert_known_failure
from edgekit.core.errors import UnsupportedModelError
from edgekit.tflite.reader import read_tflite


def _svdf_layers(gen):
    return [layer for layer in gen.model.layers if layer.opcode == "SVDF"]


@pytest.mark.parametrize("rel, state, fn", [("keyword_scrambled_8bit", "int8", "ek_svdf_s8("),
                                            ("keyword_scrambled", "int16", "ek_svdf_s8_s16(")])
def test_svdf_variants_and_parameters(rel, state, fn):
    graph = read_tflite(asset_model(f"tflm_examples/{rel}.tflite"))
    gen = generate(graph, model_file=f"{rel}.tflite")
    layers = _svdf_layers(gen)
    assert len(layers) == 7
    src = gen.rendered[f"{gen.name}.c"]
    for layer in layers:
        op = graph.operators[layer.op_index]
        p = dict(layer.params)
        x, wf, wt, _, s = (graph.tensors[i] for i in op.inputs)
        y = graph.tensors[op.outputs[0]]
        assert s.dtype == state and wt.dtype == state and s.is_variable and layer.inputs == (op.inputs[0], op.inputs[4])
        assert (p["filters"], p["memory"]) == wt.shape and p["units"] * p["rank"] == p["filters"]
        s_x, s_wf, s_wt, s_s, s_y = (float(t.quant.scale[0]) for t in (x, wf, wt, s, y))
        # TFLite Micro forms the products in float32: within float32 rounding of the exact value
        assert math.isclose(p["feature_mult"] * 2.0 ** (p["feature_shift"] - 31), s_x * s_wf / s_s, rel_tol=3e-7)
        assert math.isclose(p["output_mult"] * 2.0 ** (p["output_shift"] - 31), s_s * s_wt / s_y, rel_tol=3e-7)
        zp = int(s.quant.zero_point[0])
        assert p["state_zero_point"] == zp
        assert s.index not in gen.memory.plan.offsets
        assert f"ek_state_T{s.index}[i] = {zp if state == 'int8' else 0};" in src
        assert f"{fn}&L{layer.op_index}" in src
    state_bytes = sum(t.nbytes for t in graph.tensors if t.is_variable)
    assert f"#define {gen.name.upper()}_STATE_BYTES {state_bytes}" in gen.rendered[f"{gen.name}.h"]


def test_int8_state_with_int16_time_weights_is_refused():
    graph = read_tflite(asset_model("tflm_examples/keyword_scrambled_8bit.tflite"))
    op = graph.operators[1]
    wt = graph.tensors[op.inputs[2]]
    t = list(graph.tensors)
    t[wt.index] = replace(wt, dtype="int16", data=wt.data.astype(np.int16))
    with pytest.raises(UnsupportedModelError, match="op 1 SVDF: tensor .* is int16; supported: int8"):
        generate(replace(graph, tensors=tuple(t)))


def test_litert_is_not_run_on_an_int8_state_svdf():
    note = litert_known_failure(asset_model("tflm_examples/keyword_scrambled_8bit.tflite"))
    assert "op 1 SVDF has an int8 state" in note
    assert litert_known_failure(asset_model("tflm_examples/keyword_scrambled.tflite")) is None
