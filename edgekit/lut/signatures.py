"""Canonical operator signatures, kernel types and configuration features, read from the graph IR.

A signature is everything about an operator that can change its latency and nothing else: the
opcode, the activation shapes (batch dropped), kernel, stride, padding, fused activation, and the
constant arguments that shape the work (MEAN axes, PAD amounts). Two operators with the same
signature are one LUT entry, whichever model or converter they came from. Quantization values
and weights are not part of it (latency does not depend on them).

An operator edgekit has no kernel type for raises UnsupportedModelError naming it: a prediction
never counts an operator it does not know as free.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from edgekit.core.errors import UnsupportedModelError
from edgekit.tflite.ir import Graph, Operator

ACT_CODE = {"NONE": 0, "RELU": 1, "RELU6": 2, "RELU_N1_TO_1": 3}
KERNEL_TYPES = ("conv", "conv1x1", "dwconv", "fc", "avgpool", "maxpool", "add", "mean", "pad", "reshape", "softmax")
_OPCODE_TYPE = {"DEPTHWISE_CONV_2D": "dwconv", "FULLY_CONNECTED": "fc", "AVERAGE_POOL_2D": "avgpool",
                "MAX_POOL_2D": "maxpool", "ADD": "add", "MEAN": "mean", "PAD": "pad", "RESHAPE": "reshape",
                "SOFTMAX": "softmax"}
# numeric features of one operator, in this order (the per-kernel models' columns)
FEATURES = ("h_in", "w_in", "c_in", "h_out", "w_out", "c_out", "kh", "kw", "sh", "sw", "same_padding", "act",
            "macs", "in_elems", "out_elems", "weight_elems", "pad_elems", "inplace")


@dataclass(frozen=True)
class OpSig:
    kernel_type: str
    sig: dict[str, Any]
    features: tuple[float, ...]

    @property
    def text(self) -> str:
        return json.dumps(self.sig, sort_keys=True, separators=(",", ":"))

    @property
    def key(self) -> str:
        return sig_key(self.text)

    @property
    def macs(self) -> int:
        return int(self.features[FEATURES.index("macs")])


def sig_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _hwc(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(H, W, C) of an activation: NHWC as is, (1, N) as 1 x 1 x N, 3-D (N, W, C) as 1 x W x C."""
    if len(shape) == 4:
        return shape[1], shape[2], shape[3]
    if len(shape) == 3:
        return 1, shape[1], shape[2]
    if len(shape) == 2:
        return 1, 1, shape[1]
    n = 1
    for d in shape:
        n *= d
    return 1, 1, n


def kernel_type(op: Operator, graph: Graph) -> str:
    if op.opcode == "CONV_2D":
        w = graph.tensor(op.inputs[1]).shape
        return "conv1x1" if w[1] == 1 and w[2] == 1 else "conv"
    t = _OPCODE_TYPE.get(op.opcode)
    if t is None:
        raise UnsupportedModelError(f"operator {op.opcode} (op {op.index}) has no latency model",
                                    "supported: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, "
                                    "MAX_POOL_2D, ADD, MEAN, PAD, RESHAPE, SOFTMAX; measure this model on the "
                                    "device instead (`edgekit profile` / `edgekit run`)")
    return t


def _elems(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def op_signature(graph: Graph, op: Operator, inplace: bool | None = None) -> OpSig:
    """``inplace``: whether the operator writes its output over its input -- a decision of the
    microcontroller code generator's memory plan that changes which kernel path runs (None: the
    runtime decides nothing of the kind, e.g. LiteRT)."""
    ktype = kernel_type(op, graph)
    o = op.options
    acts = [graph.tensor(i) for i in op.inputs if i >= 0 and not graph.tensor(i).is_constant]
    consts = [graph.tensor(i) for i in op.inputs if i >= 0 and graph.tensor(i).is_constant]
    outs = [graph.tensor(i) for i in op.outputs]
    if not acts or not outs:
        raise UnsupportedModelError(f"operator {op.opcode} (op {op.index}) has no activation input",
                                    "constant-only operators should be folded by the converter")
    sig: dict[str, Any] = {"op": op.opcode, "in": [list(t.shape[1:]) for t in acts], "out": [list(t.shape[1:]) for t in outs]}
    dtypes = sorted({t.dtype for t in acts + outs})
    if dtypes != ["int8"]:
        sig["dtype"] = dtypes
    hi, wi, ci = _hwc(acts[0].shape)
    ho, wo, co = _hwc(outs[0].shape)
    kh = kw = sh = sw = 1
    same, act, weights, pad_elems = -1, ACT_CODE.get(o.get("fused_activation_function", "NONE"), 9), 0, 0
    macs = 0
    if ktype in ("conv", "conv1x1", "dwconv"):
        wshape = graph.tensor(op.inputs[1]).shape
        kh, kw = wshape[1], wshape[2]
        sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
        same = int(o.get("padding") == "SAME")
        weights = _elems(wshape)
        sig.update(k=[kh, kw], s=[sh, sw], pad=o.get("padding"), act=o.get("fused_activation_function"),
                   dil=[o.get("dilation_h_factor", 1), o.get("dilation_w_factor", 1)])
        if ktype == "dwconv":
            sig["mult"] = o.get("depth_multiplier", 1)
            macs = ho * wo * co * kh * kw
        else:
            macs = ho * wo * co * kh * kw * wshape[3]
    elif ktype == "fc":
        wshape = graph.tensor(op.inputs[1]).shape
        weights = _elems(wshape)
        rows = _elems(acts[0].shape) // wshape[1]
        macs = rows * wshape[0] * wshape[1]
        sig.update(units=wshape[0], act=o.get("fused_activation_function"), keep=o.get("keep_num_dims", False))
    elif ktype in ("avgpool", "maxpool"):
        kh, kw = o.get("filter_height", 1), o.get("filter_width", 1)
        sh, sw = o.get("stride_h", 1), o.get("stride_w", 1)
        same = int(o.get("padding") == "SAME")
        sig.update(k=[kh, kw], s=[sh, sw], pad=o.get("padding"), act=o.get("fused_activation_function"))
    elif ktype == "add":
        sig["act"] = o.get("fused_activation_function")
    elif ktype == "mean":
        sig.update(axes=[int(a) for a in consts[0].data.reshape(-1)] if consts else None, keep=o.get("keep_dims", False))
    elif ktype == "pad":
        sig["pads"] = consts[0].data.tolist() if consts else None
        pad_elems = _elems(outs[0].shape) - _elems(acts[0].shape)
    elif ktype == "softmax":
        sig["beta"] = o.get("beta", 1.0)
    in_elems = sum(_elems(t.shape) for t in acts)
    out_elems = sum(_elems(t.shape) for t in outs)
    if inplace is not None:
        sig["inplace"] = bool(inplace)
    feats = (hi, wi, ci, ho, wo, co, kh, kw, sh, sw, same, act, macs, in_elems, out_elems, weights, pad_elems,
             -1 if inplace is None else int(inplace))
    return OpSig(ktype, sig, tuple(float(x) for x in feats))


def graph_signatures(graph: Graph, inplace_ops: frozenset[int] | None = None) -> list[OpSig]:
    """One signature per operator, in execution order; every unknown operator is named at once.
    ``inplace_ops``: the operators a code generator runs in place (see ``op_signature``)."""
    unknown = sorted({op.opcode for op in graph.operators
                      if op.opcode not in _OPCODE_TYPE and op.opcode != "CONV_2D"})
    if unknown:
        raise UnsupportedModelError(f"{graph.name}: no latency model for operator(s) {', '.join(unknown)}",
                                    "supported: " + ", ".join(sorted(set(_OPCODE_TYPE) | {"CONV_2D"}))
                                    + "; measure this model on the device instead")
    return [op_signature(graph, op, None if inplace_ops is None else op.index in inplace_ops)
            for op in graph.operators]


def inplace_ops(graph: Graph, cpu: str) -> frozenset[int]:
    """The operators edgekit's code generator runs in place for this core (its static memory plan,
    deterministic): the depthwise and element-wise kernels take another path then."""
    from edgekit.codegen.generate import CodegenOptions, generate

    return frozenset(generate(graph, CodegenOptions(cpu=cpu)).memory.inplace)
