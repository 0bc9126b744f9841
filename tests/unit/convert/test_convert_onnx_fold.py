"""Constant folding of shape arithmetic in ONNX graphs (onnx + onnxruntime only, fast)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgekit.convert.shapes import resolve_shape
from edgekit.convert.frontends.onnx_fold import fold_constants
from edgekit.core.errors import ConversionError, UsageError


def shape_arithmetic_model() -> onnx.ModelProto:
    """y = x + Expand(0, Concat(Shape(x)[0:1], [4])) : zeros shaped like x built from its shape."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero_idx"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
        helper.make_node("Concat", ["n1", "four"], ["shape"], axis=0),
        helper.make_node("Expand", ["zero", "shape"], ["zeros"]),
        helper.make_node("Add", ["x", "zeros"], ["y"]),
    ]
    inits = [numpy_helper.from_array(np.array(0, np.int64), "zero_idx"),
             numpy_helper.from_array(np.array([0], np.int64), "axes"),
             numpy_helper.from_array(np.array([4], np.int64), "four"),
             numpy_helper.from_array(np.array(0.5, np.float32), "zero")]
    graph = helper.make_graph(nodes, "g", [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)


def test_shape_arithmetic_becomes_an_initializer_and_outputs_are_unchanged():
    import onnxruntime as ort

    model = shape_arithmetic_model()
    folded = fold_constants(model)
    assert [n.op_type for n in folded.graph.node] == ["Add"]
    zeros = {i.name: numpy_helper.to_array(i) for i in folded.graph.initializer}["zeros"]
    assert zeros.shape == (1, 4) and np.all(zeros == 0.5)
    x = np.arange(4, dtype=np.float32)[None]
    before = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
    after = ort.InferenceSession(folded.SerializeToString()).run(None, {"x": x})[0]
    assert np.array_equal(before, after)
    assert len(model.graph.node) == 6  # the input model is left alone


def test_resolve_shape():
    assert resolve_shape("x", [None, 3, 8, 8], None) == (1, 3, 8, 8)
    assert resolve_shape("x", [None, 3, None], (1, 3, 40)) == (1, 3, 40)
    with pytest.raises(ConversionError, match="dimension 2 unknown"):
        resolve_shape("x", [None, 3, None], None)
    with pytest.raises(ConversionError, match="fixed batch of 4"):
        resolve_shape("x", [4, 3, 8], None)
    with pytest.raises(UsageError, match="does not fit input 'x'"):
        resolve_shape("x", [None, 3, 8, 8], (1, 3, 9, 8))
