"""Recover dilated convolutions from SPACE_TO_BATCH_ND -> CONV_2D / DEPTHWISE_CONV_2D ->
BATCH_TO_SPACE_ND.

TensorFlow lowers a dilated convolution of a model with an unknown batch size this way: the
input is padded and split into block_h x block_w sub-images, each is convolved without dilation
(VALID, stride 1), and the results are interleaved back and cropped. The three operators compute
exactly one convolution of the original input with dilation = block and leading padding
= space-to-batch padding - crop (taps past the end read the pad value, the input zero point, as
a convolution's padding does), so they become that convolution, which the kernels run directly.
"""

from __future__ import annotations

import numpy as np

from edgekit.codegen.ops.common import EXPLICIT_PADDING
from edgekit.codegen.rewrite import removed, with_changes
from edgekit.tflite.ir import Graph, Operator, Tensor

_CONVS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def _same_quant(a: Tensor, b: Tensor) -> bool:
    if a.quant is None or b.quant is None:
        return a.quant is None and b.quant is None
    return (np.array_equal(a.quant.scale, b.quant.scale) and np.array_equal(a.quant.zero_point, b.quant.zero_point))


def _const_ints(graph: Graph, i: int, shape: tuple[int, ...]) -> np.ndarray | None:
    if i < 0 or graph.tensors[i].data is None:
        return None
    v = np.asarray(graph.tensors[i].data).astype(np.int64)
    return v.reshape(shape) if v.size == int(np.prod(shape)) else None


def _fuse(graph: Graph, stb: Operator, conv: Operator, bts: Operator) -> Operator | None:
    """The dilated convolution equal to stb -> conv -> bts, or None when they do not fit."""
    x, y = stb.inputs[0], bts.outputs[0]
    tx, ty = graph.tensors[x], graph.tensors[y]
    block = _const_ints(graph, stb.inputs[1], (2,))
    pads = _const_ints(graph, stb.inputs[2], (2, 2))
    block2 = _const_ints(graph, bts.inputs[1], (2,))
    crops = _const_ints(graph, bts.inputs[2], (2, 2))
    if block is None or pads is None or block2 is None or crops is None or not np.array_equal(block, block2):
        return None
    if len(tx.shape) != 4 or len(ty.shape) != 4 or np.any(block < 1) or np.any(pads < 0) or np.any(crops < 0):
        return None
    o = conv.options
    if (o.get("padding") != "VALID" or (int(o.get("stride_h", 1)), int(o.get("stride_w", 1))) != (1, 1)
            or (int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))) != (1, 1)):
        return None
    if not (_same_quant(tx, graph.tensors[conv.inputs[0]]) and _same_quant(ty, graph.tensors[conv.outputs[0]])):
        return None
    w = graph.tensors[conv.inputs[1]]
    if len(w.shape) != 4:
        return None
    lead = []
    for d in range(2):
        size, k, blk = tx.shape[1 + d], w.shape[1 + d], int(block[d])
        padded = size + int(pads[d][0]) + int(pads[d][1])
        if padded % blk:
            return None
        sub_out = padded // blk - k + 1
        if sub_out < 1 or blk * sub_out - int(crops[d][0]) - int(crops[d][1]) != ty.shape[1 + d]:
            return None
        lead.append(int(pads[d][0]) - int(crops[d][0]))
    if min(lead) < 0:
        return None
    options = dict(o, dilation_h_factor=int(block[0]), dilation_w_factor=int(block[1]),
                   **{EXPLICIT_PADDING: (lead[0], lead[1])})
    return Operator(conv.index, conv.opcode, (x,) + tuple(conv.inputs[1:]), (y,), options, conv.version)


def fuse_dilated_convolutions(graph: Graph) -> Graph:
    consumers = graph.consumers()
    producers = graph.producers()
    ops: dict[int, Operator] = {}
    for conv in graph.operators:
        if conv.opcode not in _CONVS or not conv.inputs or len(conv.outputs) != 1:
            continue
        t_in, t_out = conv.inputs[0], conv.outputs[0]
        stb_i, bts_list = producers.get(t_in), consumers.get(t_out, [])
        if stb_i is None or len(bts_list) != 1 or len(consumers.get(t_in, [])) != 1:
            continue
        stb, bts = graph.operators[stb_i], graph.operators[bts_list[0]]
        if stb.opcode != "SPACE_TO_BATCH_ND" or bts.opcode != "BATCH_TO_SPACE_ND" or len(stb.inputs) < 3 \
                or len(bts.inputs) < 3 or t_in in graph.outputs or t_out in graph.outputs:
            continue
        fused = _fuse(graph, stb, conv, bts)
        if fused is None:
            continue
        d = f"{fused.options['dilation_h_factor']}x{fused.options['dilation_w_factor']}"
        ops[conv.index] = fused
        ops[stb.index] = removed(stb, f"fused into op {conv.index} ({conv.opcode} with dilation {d})")
        ops[bts.index] = removed(bts, f"fused into op {conv.index} ({conv.opcode} with dilation {d})")
    return with_changes(graph, {}, ops) if ops else graph
