"""edgekit.tflite.stats: MACs and byte counts against published figures and first principles."""

from __future__ import annotations

import numpy as np
import pytest

from _support import asset
from edgekit.core.errors import UnsupportedModelError
from edgekit.tflite.ir import Graph, Operator, Tensor
from edgekit.tflite.reader import read_tflite
from edgekit.tflite.stats import model_stats, op_macs

# MACs and weight bytes of the MLPerf Tiny / TFLM models as listed in PLATFORM_NOTES.md.
PUBLISHED = {
    "models/mlperf_tiny/kws_ref_model_int8.tflite": (2_656_768, 24_376),
    "models/mlperf_tiny/vww_96_int8.tflite": (7_489_664, 219_072),
    "models/mlperf_tiny/pretrainedResnet_quant.tflite": (12_501_632, 78_752),
    "models/mlperf_tiny/ad01_int8.tflite": (264_192, 270_880),
    "models/mlperf_tiny/str_ww_ref_model.tflite": (826_368, 48_396),
    "models/tflm_examples/micro_speech_quantized.tflite": (336_000, 16_704),
    "models/tflm_examples/person_detect.tflite": (7_157_888, 218_928),
}


@pytest.mark.parametrize("rel", sorted(PUBLISHED))
def test_published_macs_and_weight_bytes(rel):
    stats = model_stats(read_tflite(asset(rel)))
    assert (stats.total_macs, stats.parameter_bytes) == PUBLISHED[rel]
    assert stats.macs_unknown == ()


@pytest.mark.parametrize("float_rel, int8_rel", [
    ("models/mlperf_tiny/kws_ref_model_float32.tflite", "models/mlperf_tiny/kws_ref_model_int8.tflite"),
    ("models/mlperf_tiny/vww_96_float.tflite", "models/mlperf_tiny/vww_96_int8.tflite"),
    ("models/mlperf_tiny/pretrainedResnet_float.tflite", "models/mlperf_tiny/pretrainedResnet_quant.tflite"),
    ("models/mlperf_tiny/ad01_fp32.tflite", "models/mlperf_tiny/ad01_int8.tflite"),
    ("models/tflm_examples/hello_world_float.tflite", "models/tflm_examples/hello_world_int8.tflite"),
    ("models/tflm_examples/trained_lstm.tflite", "models/tflm_examples/trained_lstm_int8.tflite"),
])
def test_quantization_keeps_macs(float_rel, int8_rel):
    f, q = model_stats(read_tflite(asset(float_rel))), model_stats(read_tflite(asset(int8_rel)))
    assert f.total_macs == q.total_macs > 0
    assert q.parameter_bytes < f.parameter_bytes


def test_rows_histogram_and_activations():
    g = read_tflite(asset("models/mlperf_tiny/kws_ref_model_int8.tflite"))
    stats = model_stats(g)
    assert [r.index for r in stats.ops] == list(range(len(g.operators)))
    assert sum(stats.op_histogram.values()) == len(g.operators)
    assert stats.total_macs == sum(r.macs for r in stats.ops)
    assert all(r.output_shapes == tuple(g.tensor(i).shape for i in op.outputs)
               for r, op in zip(stats.ops, g.operators))
    # The first conv's 25x5x64 int8 output is the largest activation of the DS-CNN.
    assert stats.largest_activation_bytes == 25 * 5 * 64
    conv = stats.ops[0]
    assert conv.weight_bytes == sum(g.tensor(i).data.nbytes for i in g.operators[0].inputs[1:])


def test_simple_add_has_no_macs_and_no_weights():
    g = read_tflite(asset("models/tflm_examples/simple_add_model.tflite"))
    stats = model_stats(g)
    assert stats.total_macs == 0 and stats.parameter_bytes == 0
    assert stats.largest_activation_bytes == int(np.prod(g.tensor(g.outputs[0]).shape))


def test_recurrent_macs_and_state():
    g = read_tflite(asset("models/tflm_examples/trained_lstm_int8.tflite"))
    lstm = next(op for op in g.operators if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    batch, steps, _ = g.tensor(lstm.inputs[0]).shape
    weights = sum(g.tensor(lstm.inputs[k]).num_elements for k in range(1, 9) if lstm.inputs[k] >= 0)
    assert op_macs(g, lstm) == batch * steps * weights
    svdf_model = read_tflite(asset("models/tflm_examples/keyword_scrambled.tflite"))
    stats = model_stats(svdf_model)
    states = [svdf_model.tensor(op.inputs[4]) for op in svdf_model.operators if op.opcode == "SVDF"]
    assert all(t.dtype == "int16" and t.is_variable and not t.is_constant for t in states)
    assert stats.state_bytes == sum(t.num_elements * 2 for t in states)


def test_custom_ops_have_unknown_macs():
    g = read_tflite(asset("models/tflm_examples/audio_preprocessor_int8.tflite"))
    stats = model_stats(g)
    custom = tuple(op.index for op in g.operators if op.opcode.startswith("CUSTOM:"))
    assert custom and stats.macs_unknown == custom
    assert all(stats.ops[i].macs is None for i in custom)


def _t(index, shape, const=False):
    data = np.ones(shape, dtype=np.int8) if const else None
    return Tensor(index=index, name=f"t{index}", shape=shape, dtype="int8", data=data)


def test_transpose_conv_and_batch_matmul_from_loops():
    # TRANSPOSE_CONV: every input element is scattered through a KHxKW window into each output
    # channel -- count the multiplies with explicit loops.
    x_shape, w_shape = (1, 2, 2, 3), (4, 3, 3, 3)   # filter [Cout, KH, KW, Cin]
    expected = sum(1 for _ in np.ndindex(*x_shape) for _ in np.ndindex(*w_shape[:3]))
    tensors = (_t(0, (4,), True), _t(1, w_shape, True), _t(2, x_shape), _t(3, (1, 4, 4, 4)))
    op = Operator(index=0, opcode="TRANSPOSE_CONV", inputs=(0, 1, 2), outputs=(3,))
    g = Graph(name="tc", tensors=tensors, operators=(op,), inputs=(2,), outputs=(3,))
    assert op_macs(g, op) == expected == 432

    # BATCH_MATMUL [2,3,4] x [2,4,5]: one multiply per (batch, row, col, k).
    tensors = (_t(0, (2, 3, 4)), _t(1, (2, 4, 5)), _t(2, (2, 3, 5)))
    op = Operator(index=0, opcode="BATCH_MATMUL", inputs=(0, 1), outputs=(2,), options={"adj_x": False})
    g = Graph(name="bmm", tensors=tensors, operators=(op,), inputs=(0, 1), outputs=(2,))
    assert op_macs(g, op) == sum(1 for _ in np.ndindex(2, 3, 5, 4))


def test_malformed_weight_op_is_refused():
    tensors = (_t(0, (1, 4)), _t(1, (4,), True), _t(2, (1, 3)))
    op = Operator(index=0, opcode="FULLY_CONNECTED", inputs=(0, 1), outputs=(2,))
    g = Graph(name="bad", tensors=tensors, operators=(op,), inputs=(0,), outputs=(2,))
    with pytest.raises(UnsupportedModelError, match="rank-1"):
        model_stats(g)
