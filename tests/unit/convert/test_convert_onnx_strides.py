"""Depthwise convolutions with unequal strides (1-D sensor layouts): rewritten when the stride is
harmless, refused by name otherwise, and the float TFLite equals PyTorch after conversion."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgekit.convert.frontends.onnx_fold import static_shapes
from edgekit.convert.frontends.onnx_strides import equalize_depthwise_strides
from edgekit.core.errors import ConversionError


def depthwise(h: int, w: int, kernel: tuple[int, int], strides: list[int], pads: list[int]) -> onnx.ModelProto:
    c = 4
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    wt = numpy_helper.from_array(np.random.default_rng(0).normal(size=(c, 1, *kernel)).astype(np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="dw1", group=c, strides=strides, pads=pads,
                            kernel_shape=list(kernel))
    g = helper.make_graph([node], "g", [x], [y], [wt])
    return onnx.shape_inference.infer_shapes(
        helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9))


def _run(model, x):
    import onnxruntime as ort

    return ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]


def test_stride_along_a_unit_dimension_is_made_equal_and_outputs_are_unchanged():
    model = depthwise(52, 1, (5, 1), [2, 1], [2, 0, 2, 0])
    x = np.random.default_rng(1).normal(size=(1, 4, 52, 1)).astype(np.float32)
    before = _run(model, x)
    assert equalize_depthwise_strides(model, static_shapes(model)) == 1
    attrs = {a.name: helper.get_attribute_value(a) for a in model.graph.node[0].attribute}
    assert list(attrs["strides"]) == [2, 2]
    after = _run(model, x)
    assert before.shape == after.shape == (1, 4, 26, 1) and np.array_equal(before, after)


def test_equal_strides_and_ordinary_convolutions_are_left_alone():
    model = depthwise(8, 8, (3, 3), [2, 2], [1, 1, 1, 1])
    assert equalize_depthwise_strides(model, static_shapes(model)) == 0


def test_unequal_strides_on_a_real_image_are_refused_by_name():
    model = depthwise(8, 8, (3, 3), [2, 1], [1, 1, 1, 1])
    with pytest.raises(ConversionError, match=r"depthwise convolution 'dw1' has strides \(2, 1\)") as e:
        equalize_depthwise_strides(model, static_shapes(model))
    assert "equal strides" in e.value.hint


def test_one_dimensional_strided_depthwise_network_converts(tmp_path):
    import torch
    from ai_edge_litert import interpreter as litert

    from edgekit.convert.api import convert
    from edgekit.convert.options import ConvertOptions

    src = tmp_path / "net.py"
    src.write_text(
        "import torch\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(s):\n"
        "        super().__init__()\n"
        "        s.a = torch.nn.Conv2d(8, 8, (5, 1), stride=(2, 1), padding=(2, 0), groups=8)\n"
        "        s.b = torch.nn.Conv2d(8, 4, 1)\n"
        "    def forward(s, x):\n"
        "        return s.b(torch.relu(s.a(x)))\n"
        "def build():\n"
        "    torch.manual_seed(0)\n"
        "    return Net().eval()\n")
    res = convert(ConvertOptions(model=f"{src}:build", input_shapes=((1, 8, 52, 1),), output_dir=tmp_path / "out",
                                 name="net"))
    x = np.random.default_rng(2).normal(size=(1, 8, 52, 1)).astype(np.float32)
    import importlib.util

    spec = importlib.util.spec_from_file_location("net_src", src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with torch.no_grad():
        want = mod.build()(torch.from_numpy(x)).numpy().transpose(0, 2, 3, 1)      # NCHW -> NHWC
    it = litert.Interpreter(model_path=str(res.float_model.path))
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x.transpose(0, 2, 3, 1))
    it.invoke()
    got = it.get_tensor(it.get_output_details()[0]["index"])
    assert got.shape == (1, 26, 1, 4)
    np.testing.assert_allclose(got, want, atol=1e-5)
