"""Depthwise convolutions with unequal strides, before onnx2tf sees them.

TensorFlow's depthwise convolution takes equal strides along height and width only, and onnx2tf
turns a ``Conv`` with ``group == channels`` and strides such as (2, 1) into a graph that fails
later with an unrelated message ("untracked resource"). A 1-D sensor network laid out as
(N, C, T, 1) has exactly such layers. Along a dimension of size 1 with a kernel of 1 and no
padding, the stride changes nothing (the output is 1 wide either way), so it is set equal to the
other one; any other unequal-stride depthwise convolution is refused by name.
"""

from __future__ import annotations

import onnx
from onnx import helper

from edgekit.core.errors import ConversionError


def _attr(node: onnx.NodeProto, name: str, default):  # noqa: ANN001, ANN202
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _set_ints(node: onnx.NodeProto, name: str, values: list[int]) -> None:
    for k, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[k]
            break
    node.attribute.append(helper.make_attribute(name, values))


def equalize_depthwise_strides(model: onnx.ModelProto, shapes: dict[str, tuple[int, ...]]) -> int:
    """Rewrite (in place) the depthwise convolutions whose unequal strides are harmless; returns how
    many were rewritten. ``shapes``: static tensor shapes (NCHW)."""
    weights = {t.name: tuple(t.dims) for t in model.graph.initializer}
    changed = 0
    for node in model.graph.node:
        if node.op_type != "Conv" or len(node.input) < 2:
            continue
        x, w = shapes.get(node.input[0]), weights.get(node.input[1]) or shapes.get(node.input[1])
        if x is None or w is None or len(x) != 4:
            continue
        group = int(_attr(node, "group", 1))
        if group == 1 or group != x[1]:
            continue                                   # not depthwise: TF takes unequal strides there
        strides = list(_attr(node, "strides", [1, 1]))
        if strides[0] == strides[1]:
            continue
        pads = list(_attr(node, "pads", [0, 0, 0, 0]))
        kernel = w[2:]
        unit = [d for d in (0, 1) if x[2 + d] == 1 and kernel[d] == 1 and pads[d] == 0 and pads[d + 2] == 0]
        if not unit:
            raise ConversionError(
                f"depthwise convolution '{node.name or node.output[0]}' has strides {tuple(strides)}: "
                "TensorFlow's depthwise convolution takes equal strides only",
                "use equal strides, or a stride-1 depthwise convolution followed by a strided pooling or "
                "pointwise layer")
        d = unit[0]
        strides[d] = strides[1 - d]
        _set_ints(node, "strides", strides)
        changed += 1
    return changed
