"""edgekit.tflite.reader against the shared .tflite assets and LiteRT's own view of them."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from _support import ASSETS, asset
from edgekit.core.errors import InputFileError, UnsupportedModelError
from edgekit.tflite.reader import dynamic_dims, read_tflite, read_tflite_bytes

MODELS = sorted(p.relative_to(ASSETS).as_posix() for p in (ASSETS / "models").glob("*/*.tflite"))
# LiteRT cannot load person_detect (1-D per-channel biases marked axis 3) and corrupts memory on
# keyword_scrambled_8bit (int8 SVDF); see PLATFORM_NOTES.md.
NOT_IN_LITERT = {"models/tflm_examples/person_detect.tflite",
                 "models/tflm_examples/keyword_scrambled_8bit.tflite"}
HELLO = "models/tflm_examples/hello_world_int8.tflite"



def _params(rels: list[str]) -> list:
    if rels:
        return rels
    return [pytest.param(None, marks=pytest.mark.skip(reason=f"no .tflite models under {ASSETS}/models"))]


def _interpreter(path):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    # BUILTIN_REF: no delegate rewrites the graph; tensors are not allocated (custom ops load lazily).
    return Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)


def _repack(model) -> bytes:
    import flatbuffers

    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _model_t(data: bytes):
    from ai_edge_litert import schema_py_generated as schema

    return schema.ModelT.InitFromPackedBuf(data, 0)


@pytest.mark.parametrize("rel", _params(MODELS))
def test_every_asset_reads_consistently(rel):
    path = asset(rel)
    g = read_tflite(path)
    assert g.name == path.stem
    assert g.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert g.operators and [op.index for op in g.operators] == list(range(len(g.operators)))
    for op in g.operators:
        assert all(-1 <= i < len(g.tensors) for i in op.inputs)
        assert all(0 <= i < len(g.tensors) for i in op.outputs)
    for t in g.tensors:
        if t.is_constant:
            assert t.data.shape == t.shape
            assert t.data.dtype == np.dtype(t.dtype if t.dtype != "int4" else "int8")
            assert t.data.flags.writeable  # a copy: a view of the file's bytes would be read-only
        if t.quant is not None:
            assert t.quant.scale.dtype == np.float32 and t.quant.zero_point.dtype == np.int64
            assert t.quant.scale.shape == t.quant.zero_point.shape
            assert (t.quant.axis is None) == (t.quant.scale.size == 1)
            if t.quant.axis is not None:
                assert t.shape[t.quant.axis] == t.quant.scale.size


@pytest.mark.parametrize("rel", _params([m for m in MODELS if m not in NOT_IN_LITERT]))
def test_matches_litert(rel):
    path = asset(rel)
    g = read_tflite(path)
    interp = _interpreter(path)
    ops = interp._get_ops_details()
    assert len(ops) == len(g.operators)
    for d, op in zip(ops, g.operators):
        # LiteRT names a custom op by its custom code alone.
        assert op.opcode == d["op_name"] or op.opcode == "CUSTOM:" + d["op_name"]
        assert op.inputs == tuple(int(i) for i in d["inputs"])
        assert op.outputs == tuple(int(i) for i in d["outputs"])
    details = interp.get_tensor_details()
    assert len(details) == len(g.tensors)
    dynamic = dynamic_dims(g)
    for d in details:
        t = g.tensor(d["index"])
        assert t.name == d["name"]
        assert t.shape == tuple(int(x) for x in d["shape"])
        assert t.dtype == np.dtype(d["dtype"]).name
        q = d["quantization_parameters"]
        if t.quant is None:
            assert len(q["scales"]) == 0
        else:
            np.testing.assert_array_equal(t.quant.scale, q["scales"])
            np.testing.assert_array_equal(t.quant.zero_point, q["zero_points"])
            if t.quant.axis is not None:
                assert t.quant.axis == q["quantized_dimension"]
        signature = tuple(int(x) for x in d["shape_signature"])
        assert dynamic.get(t.index) == (signature if -1 in signature else None)
        if t.is_constant:
            np.testing.assert_array_equal(t.data, interp.get_tensor(t.index))
    assert g.inputs == tuple(int(d["index"]) for d in interp.get_input_details())
    assert g.outputs == tuple(int(d["index"]) for d in interp.get_output_details())


def test_custom_ops_are_named_by_their_code():
    vela = read_tflite(asset("models/tflm_examples/person_detect_vela.tflite"))
    assert [op.opcode for op in vela.operators] == ["CUSTOM:ethos-u"]
    assert isinstance(vela.operators[0].options["custom_options"], bytes)
    audio = read_tflite(asset("models/tflm_examples/audio_preprocessor_int8.tflite"))
    custom = {op.opcode for op in audio.operators if op.opcode.startswith("CUSTOM:")}
    assert {"CUSTOM:SignalWindow", "CUSTOM:SignalRfft", "CUSTOM:SignalFilterBank"} <= custom


def _conv_out(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    if padding == "SAME":
        return math.ceil(size / stride)
    return math.ceil((size - (k - 1) * dilation) / stride)


@pytest.mark.parametrize("rel", [m for m in MODELS if "mlperf" in m and "ad01" not in m]  # ad01 is all FC
                         + ["models/tflm_examples/person_detect.tflite",
                            "models/tflm_examples/micro_speech_quantized.tflite"])
def test_conv_and_pool_options_explain_output_shapes(rel):
    g = read_tflite(asset(rel))
    checked = 0
    for op in g.operators:
        if op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"):
            continue
        o = op.options
        assert o["padding"] in ("SAME", "VALID")
        assert o["fused_activation_function"] in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1", "TANH")
        x, y = g.tensor(op.inputs[0]).shape, g.tensor(op.outputs[0]).shape
        if op.opcode.endswith("POOL_2D"):
            kh, kw, dh, dw = o["filter_height"], o["filter_width"], 1, 1
        else:
            _, kh, kw, _ = g.tensor(op.inputs[1]).shape
            dh, dw = o["dilation_h_factor"], o["dilation_w_factor"]
        assert y[1] == _conv_out(x[1], kh, o["stride_h"], dh, o["padding"])
        assert y[2] == _conv_out(x[2], kw, o["stride_w"], dw, o["padding"])
        checked += 1
    assert checked > 0


def test_recurrent_options_and_intermediates():
    g = read_tflite(asset("models/tflm_examples/trained_lstm_int8.tflite"))
    (lstm,) = [op for op in g.operators if op.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert lstm.options["fused_activation_function"] == "TANH"
    assert lstm.options["time_major"] is False
    # int8 LSTM lists five intermediate tensors; the last carries the effective hidden scale.
    intermediates = [g.tensor(i) for i in lstm.options["intermediates"]]
    assert len(intermediates) == 5
    assert intermediates[-1].name.endswith("hidden_scale_intermediate")
    assert intermediates[-1].quant is not None and intermediates[-1].quant.scale[0] > 0
    assert {g.tensor(lstm.inputs[k]).is_variable for k in (18, 19)} == {True}

    svdf_model = read_tflite(asset("models/tflm_examples/keyword_scrambled.tflite"))
    for op in (op for op in svdf_model.operators if op.opcode == "SVDF"):
        filters = svdf_model.tensor(op.inputs[1]).shape[0]
        units = svdf_model.tensor(op.outputs[0]).shape[-1]
        assert filters == op.options["rank"] * units
        assert svdf_model.tensor(op.inputs[4]).is_variable


def test_person_detect_per_channel_axes():
    g = read_tflite(asset("models/tflm_examples/person_detect.tflite"))
    for op in g.operators:
        if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w, b = g.tensor(op.inputs[1]), g.tensor(op.inputs[2])
            assert w.quant.axis == (0 if op.opcode == "CONV_2D" else 3)
            # The file marks 1-D biases with axis 3; the reader reports the only possible axis.
            assert b.quant.axis == 0 and b.quant.scale.size == b.shape[0]


def test_dynamic_dims():
    kws = read_tflite(asset("models/mlperf_tiny/kws_ref_model_int8.tflite"))
    assert dynamic_dims(kws)[kws.inputs[0]] == (-1,) + kws.tensor(kws.inputs[0]).shape[1:]
    assert dynamic_dims(read_tflite(asset("models/tflm_examples/keyword_scrambled.tflite"))) == {}
    assert kws.tensor(kws.inputs[0]).is_dynamic and not kws.tensor(kws.outputs[0]).shape_signature is None


# ---- files that are not valid models ------------------------------------------------------------

def _bad(data: bytes, name: str = "bad") -> InputFileError:
    with pytest.raises(InputFileError) as e:
        read_tflite_bytes(data, name)
    assert e.value.message.startswith(f"{name}: not a valid TFLite model (")
    return e.value


def test_empty_and_text_files(tmp_path):
    empty = tmp_path / "empty.tflite"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="only 0 bytes"):
        read_tflite(empty)
    text = tmp_path / "notes.tflite"
    text.write_text("this is not a flatbuffer at all, just some text\n" * 20)
    with pytest.raises(InputFileError, match="identifier"):
        read_tflite(text)
    with pytest.raises(InputFileError, match="no such file"):
        read_tflite(tmp_path / "missing.tflite")
    with pytest.raises(InputFileError, match="cannot read"):
        read_tflite(tmp_path)


def test_wrong_identifier():
    data = bytearray(asset(HELLO).read_bytes())
    data[4:8] = b"TFL2"
    assert "TFL2" in _bad(bytes(data)).message


@pytest.mark.parametrize("keep", [4, 9, 20, 0.1, 0.5, 0.9, -1])
@pytest.mark.parametrize("rel", [HELLO, "models/mlperf_tiny/kws_ref_model_int8.tflite"])
def test_truncated(rel, keep):
    """Cut after a few bytes, at fractions of the file, and just before its end."""
    data = asset(rel).read_bytes()
    cut = keep if isinstance(keep, int) else int(len(data) * keep)
    _bad(data[:cut])


def test_buffer_size_must_match_shape():
    model = _model_t(asset(HELLO).read_bytes())
    tensors = model.subgraphs[0].tensors
    const = next(t for t in tensors if model.buffers[t.buffer].data is not None)
    const.shape = np.array(list(const.shape) + [2], dtype=np.int32)
    assert "buffer holds" in _bad(_repack(model)).message


def test_opcodes_above_127_use_the_wide_field():
    """deprecated_builtin_code is int8: codes above 127 store 127 there and the real one beside."""
    from ai_edge_litert import schema_py_generated as schema

    model = _model_t(asset(HELLO).read_bytes())
    code = model.operatorCodes[model.subgraphs[0].operators[0].opcodeIndex]
    code.deprecatedBuiltinCode, code.builtinCode = 127, schema.BuiltinOperator.GELU
    assert read_tflite_bytes(_repack(model), "wide").operators[0].opcode == "GELU"


def test_several_subgraphs_are_refused():
    import copy

    model = _model_t(asset(HELLO).read_bytes())
    model.subgraphs.append(copy.deepcopy(model.subgraphs[0]))
    with pytest.raises(UnsupportedModelError, match="2 subgraphs"):
        read_tflite_bytes(_repack(model), "two")


def test_buffers_stored_after_the_flatbuffer():
    """Models over 2 GB keep buffer data after the flatbuffer at absolute offsets."""
    original = asset(HELLO).read_bytes()
    model = _model_t(original)
    moved = [b for b in model.buffers if b.data is not None and len(b.data)]
    payload = [bytes(b.data) for b in moved]
    for b in moved:  # first pass with placeholder offsets fixes the flatbuffer's size
        b.data, b.offset, b.size = None, 2, 1
    head = _repack(model)
    head += b"\0" * (-len(head) % 16)
    tail, offset = b"", len(head)
    for b, p in zip(moved, payload):
        b.offset, b.size = offset + len(tail), len(p)
        tail += p + b"\0" * (-len(p) % 16)
    packed = _repack(model)
    assert len(packed) <= len(head)
    data = packed + b"\0" * (len(head) - len(packed)) + tail
    outside = read_tflite_bytes(data, "outside")
    inline = read_tflite_bytes(original, "inline")
    for a, b in zip(outside.tensors, inline.tensors):
        assert a.is_constant == b.is_constant
        if a.is_constant:
            np.testing.assert_array_equal(a.data, b.data)
    assert "past the end" in _bad(data[: len(data) - 20]).message


def test_shared_tables_cannot_blow_up_the_unpacker():
    """A crafted file whose buffer vector points 100k times at one table is refused quickly."""
    import time

    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    b = flatbuffers.Builder(0)
    schema.BufferStart(b)
    one = schema.BufferEnd(b)
    n = 100_000
    b.StartVector(4, n, 4)
    for _ in range(n):
        b.PrependUOffsetTRelative(one)
    buffers = b.EndVector()
    schema.ModelStart(b)
    schema.ModelAddBuffers(b, buffers)
    b.Finish(schema.ModelEnd(b), file_identifier=b"TFL3")
    start = time.perf_counter()
    assert "too many tables" in _bad(bytes(b.Output())).message
    assert time.perf_counter() - start < 2.0
