"""Lowering: refusals are collected for every operator at once; options become kernel params."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.codegen.lower import lower_graph
from edgekit.codegen.ops.common import out_size, same_padding
from edgekit.core.errors import UnsupportedModelError
from edgekit.tflite.ir import Graph, Operator, Quant, Tensor


def _q(scale: float = 0.05, zp: int = 0) -> Quant:
    return Quant(np.array([scale], np.float32), np.array([zp], np.int64), None)


def _graph(ops, tensors, inputs=(0,), outputs=(1,)) -> Graph:
    return Graph("synthetic", tuple(tensors), tuple(ops), tuple(inputs), tuple(outputs), sha256="0" * 64)


def _fc_graph(in_dtype="int8") -> tuple[list[Tensor], Operator]:
    q = _q() if in_dtype == "int8" else None
    w = np.arange(12, dtype=np.int8).reshape(3, 4)
    tensors = [Tensor(0, "x", (1, 4), in_dtype, q), Tensor(1, "y", (1, 3), in_dtype, q),
               Tensor(2, "w", (3, 4), "int8", _q(0.01), data=w),
               Tensor(3, "b", (3,), "int32", _q(0.0005), data=np.array([1, -2, 3], np.int32))]
    return tensors, Operator(0, "FULLY_CONNECTED", (0, 2, 3), (1,), {"fused_activation_function": "RELU"})


def test_every_refusal_is_listed_with_its_operator_index():
    tensors, fc = _fc_graph()
    tensors += [Tensor(4, "z", (1, 3), "int8", _q()), Tensor(5, "u", (1, 3), "int8", _q()),
                Tensor(6, "v", (1, 3), "float32")]
    ops = [fc, Operator(1, "CUSTOM:ethos-u", (1,), (4,)), Operator(2, "SQUARED_DIFFERENCE", (4, 4), (5,)),
           Operator(3, "LOGISTIC", (5,), (6,))]
    with pytest.raises(UnsupportedModelError) as e:
        lower_graph(_graph(ops, tensors, outputs=(6,)))
    msg = e.value.message
    assert "3 of 4 operator(s)" in msg
    assert "op 1 CUSTOM:ethos-u: custom operator 'ethos-u'" in msg and "Vela" in msg
    assert "op 2 SQUARED_DIFFERENCE: operator not supported" in msg
    assert "op 3 LOGISTIC: tensor 'v' is float32" in msg
    assert "op 0" not in msg


def test_float_model_is_named_as_such():
    tensors, fc = _fc_graph("float32")
    tensors[2] = Tensor(2, "w", (3, 4), "float32", None, data=np.zeros((3, 4), np.float32))
    with pytest.raises(UnsupportedModelError) as e:
        lower_graph(_graph([fc], tensors))
    assert "float32, not int8" in e.value.message
    assert "int8" in e.value.hint


def test_fully_connected_params_fold_offsets_into_bias():
    tensors, fc = _fc_graph()
    tensors[0] = Tensor(0, "x", (1, 4), "int8", _q(0.05, 7))
    layer = lower_graph(_graph([fc], tensors)).layers[0]
    p = dict(layer.params)
    assert (p["batches"], p["in_depth"], p["out_depth"], p["input_offset"]) == (1, 4, 3, -7)
    w = np.arange(12).reshape(3, 4)
    assert p["bias_eff"].values.tolist() == [b - 7 * s for b, s in zip([1, -2, 3], w.sum(1))]
    assert p["act_min"] == 0 and layer.macs == 12


@pytest.mark.parametrize("padding,size,k,stride,dilation", [
    ("SAME", 11, 3, 1, 1), ("SAME", 11, 4, 2, 1), ("VALID", 11, 5, 2, 1), ("SAME", 10, 3, 1, 2), ("SAME", 7, 7, 2, 1)])
def test_padding_matches_tflite(padding, size, k, stride, dilation):
    out = out_size(padding, size, k, stride, dilation)
    pad = same_padding(padding, size, k, stride, dilation, out)
    eff = (k - 1) * dilation + 1
    # the last window starts inside the (padded) input and the leading pad is the smaller half
    assert (out - 1) * stride - pad + eff <= size + (eff - 1)
    total = max((out - 1) * stride + eff - size, 0) if padding == "SAME" else 0
    assert pad == total // 2
