"""UNIDIRECTIONAL_SEQUENCE_LSTM lowering: parameters from the tensors' quantization, state kept
outside the arena with a reset to the quantized zero, refusals of what TFLite Micro cannot run
either. Bit-exactness is checked in tests/integration/codegen (test_asset_models, test_recurrent)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from _support import asset_model
from edgekit.codegen.generate import generate
from edgekit.codegen.ops.lstm import tanh16_params
from edgekit.core.errors import UnsupportedModelError
from edgekit.tflite.reader import read_tflite


def _real(mult: int, shift: int) -> float:
    return mult * 2.0 ** (shift - 31)


def _lstm(gen):
    return next(layer for layer in gen.model.layers if layer.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM")


@pytest.mark.parametrize("rel", ["trained_lstm_int8", "micro_speech_lstm", "dtln_noise_suppression"])
def test_parameters_follow_the_quantization(rel):
    graph = read_tflite(asset_model(f"tflm_examples/{rel}.tflite"))
    gen = generate(graph)
    layer = _lstm(gen)
    p = dict(layer.params)
    op = graph.operators[layer.op_index]
    x, h, c = (graph.tensors[i] for i in layer.inputs)
    assert (layer.inputs[1], layer.inputs[2]) == (op.inputs[18], op.inputs[19]) and h.is_variable and c.is_variable
    s_x, s_h, s_c = (float(t.quant.scale[0]) for t in (x, h, c))
    assert p["input_offset"] == -int(x.quant.zero_point[0]) and p["hidden_offset"] == int(h.quant.zero_point[0])
    assert 2.0 ** p["cell_scale_power"] == s_c
    assert p["cell_clip"] == min(int(op.options["cell_clip"] / s_c), 32767)
    assert (p["tanh_mult"], p["tanh_shift"]) == tanh16_params(p["cell_scale_power"])
    for g in range(4):   # gate products land in Q3.12
        w, r = (graph.tensors[op.inputs[k + g]] for k in (1, 5))
        assert math.isclose(_real(p["input_mult"][g], p["input_shift"][g]), s_x * float(w.quant.scale[0]) * 4096,
                            rel_tol=1e-6)
        assert math.isclose(_real(p["recurrent_mult"][g], p["recurrent_shift"][g]),
                            s_h * float(r.quant.scale[0]) * 4096, rel_tol=1e-6)
    assert math.isclose(_real(p["forget_mult"], p["forget_shift"]), 2.0 ** -15, rel_tol=1e-9)
    assert math.isclose(_real(p["input_gate_mult"], p["input_gate_shift"]), 2.0 ** -30 / s_c, rel_tol=1e-9)
    assert math.isclose(_real(p["hidden_mult"], p["hidden_shift"]), 2.0 ** -30 / s_h, rel_tol=1e-6)
    # random int8 inputs can drive these gates out of int16, where arm_lstm_unidirectional_s8
    # would differ from TFLite Micro: the CMSIS-NN adapter must take its exact path
    assert p["cmsis_exact"] == 0


def test_tanh_input_scaling():
    # Q3.12 input: the table's x3 scaling and no shift; Q0.15 (2^-15): x3 then /8, rounded
    assert tanh16_params(-12) == (3, 0)
    assert tanh16_params(-15) == (3, 3)
    assert tanh16_params(-10) == (12, 0)


def test_state_lives_outside_the_arena_and_resets_to_the_zero_point():
    graph = read_tflite(asset_model("tflm_examples/micro_speech_lstm.tflite"))
    gen = generate(graph, model_file="micro_speech_lstm.tflite")
    layer = _lstm(gen)
    h, c = (graph.tensors[i] for i in layer.inputs[1:])
    assert h.index not in gen.memory.plan.offsets and c.index not in gen.memory.plan.offsets
    src, header = gen.rendered["micro_speech_lstm.c"], gen.rendered["micro_speech_lstm.h"]
    zp = int(h.quant.zero_point[0])
    assert zp != 0   # the case where "zero" state is not all-zero bytes
    assert f"static int8_t ek_state_T{h.index}[{h.num_elements}]" in src
    assert f"static int16_t ek_state_T{c.index}[{c.num_elements}]" in src
    assert f"ek_state_T{h.index}[i] = {zp};" in src and f"ek_state_T{c.index}[i] = 0;" in src
    assert "if (!ek_state_ready) micro_speech_lstm_reset();" in src
    assert "void micro_speech_lstm_reset(void);" in header
    assert f"#define MICRO_SPEECH_LSTM_STATE_BYTES {h.nbytes + c.nbytes}" in header


def test_float_lstm_is_refused_as_a_float_model():
    with pytest.raises(UnsupportedModelError) as e:
        generate(read_tflite(asset_model("tflm_examples/trained_lstm.tflite")))
    assert "float32, not int8" in e.value.message and "op 0 UNIDIRECTIONAL_SEQUENCE_LSTM" in e.value.message


@pytest.mark.parametrize("slot, what", [(9, "peephole"), (16, "projection"), (20, "layer norm")])
def test_lstm_variants_are_refused_by_name(slot, what):
    graph = read_tflite(asset_model("tflm_examples/trained_lstm_int8.tflite"))
    op = graph.operators[0]
    ins = list(op.inputs) + [-1] * (24 - len(op.inputs))
    ins[slot] = op.inputs[1]               # any tensor: only its presence matters
    bad = replace(graph, operators=(replace(op, inputs=tuple(ins)),) + graph.operators[1:])
    with pytest.raises(UnsupportedModelError) as e:
        generate(bad)
    assert f"op 0 UNIDIRECTIONAL_SEQUENCE_LSTM: LSTM with {what} weights is not supported" in e.value.message


def test_cifg_lstm_is_refused():
    graph = read_tflite(asset_model("tflm_examples/trained_lstm_int8.tflite"))
    op = graph.operators[0]
    ins = list(op.inputs)
    ins[1] = -1
    bad = replace(graph, operators=(replace(op, inputs=tuple(ins)),) + graph.operators[1:])
    with pytest.raises(UnsupportedModelError, match="without an input gate"):
        generate(bad)
