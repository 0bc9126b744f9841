"""Helpers shared by the lowerings: checked access to tensors and quantization, padding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekit.codegen.layer import Refusal
from edgekit.tflite.ir import Graph, Operator, Tensor

# CMSIS-NN code paths that size scratch differently: plain C, Armv7E-M DSP (M4/M7/M33), Helium (M55).
CMSIS_FAMILIES = ("none", "dsp", "mve")


@dataclass(frozen=True)
class LowerCtx:
    graph: Graph
    cmsis_families: tuple[str, ...] = CMSIS_FAMILIES   # families whose scratch the plan must cover

    def t(self, i: int) -> Tensor:
        if i < 0:
            raise Refusal("an optional input is missing where this op needs it")
        return self.graph.tensors[i]

    def dtype(self, i: int, allowed: tuple[str, ...] = ("int8",)) -> str:
        t = self.t(i)
        if t.dtype not in allowed:
            raise Refusal(f"tensor {t.name!r} is {t.dtype}; supported: {', '.join(allowed)}")
        return t.dtype

    def qparams(self, i: int) -> tuple[float, int]:
        """Per-tensor (scale, zero point); refuses float or per-channel activations."""
        t = self.t(i)
        if t.quant is None or t.quant.scale.size == 0:
            raise Refusal(f"tensor {t.name!r} ({t.dtype}) has no quantization parameters")
        if t.quant.scale.size != 1:
            raise Refusal(f"tensor {t.name!r} is quantized per channel where per tensor is required")
        return float(t.quant.scale[0]), int(t.quant.zero_point[0])

    def const(self, i: int) -> np.ndarray:
        t = self.t(i)
        if t.data is None:
            raise Refusal(f"tensor {t.name!r} must be constant (weights computed at run time are not supported)")
        return t.data

    def activation(self, op: Operator) -> str:
        act = op.options.get("fused_activation_function", "NONE")
        if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            raise Refusal(f"fused activation {act} is not supported")
        return act

    def shape(self, i: int) -> tuple[int, ...]:
        shp = self.t(i).shape
        if any(d < 0 for d in shp):
            raise Refusal(f"tensor {self.t(i).name!r} has a dynamic shape {shp}")
        return shp


def same_padding(padding: str, in_size: int, k: int, stride: int, dilation: int, out_size: int) -> int:
    """TFLite's ComputePaddingWithOffset: the leading pad (the odd extra pixel goes at the end)."""
    if padding == "VALID":
        return 0
    effective = (k - 1) * dilation + 1
    total = (out_size - 1) * stride + effective - in_size
    return max(total, 0) // 2


def out_size(padding: str, in_size: int, k: int, stride: int, dilation: int) -> int:
    effective = (k - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    return (in_size + stride - effective) // stride


def check_padding(padding: str) -> None:
    if padding not in ("SAME", "VALID"):
        raise Refusal(f"padding {padding} is not supported")


def ring_rows(in_row_bytes: int, out_row_bytes: int, out_h: int, stride: int, pad: int) -> int:
    """Output rows an in-place ring must hold (the kernels' ek_*_inplace_rows schedule): output row
    r goes to its place once no later output row reads input rows overlapping its bytes."""
    flushed = rows = 0
    for r in range(out_h):
        rows = max(rows, r + 1 - flushed)
        while flushed <= r:
            if r + 1 < out_h and (flushed + 1) * out_row_bytes > max(0, (r + 1) * stride - pad) * in_row_bytes:
                break
            flushed += 1
    return rows


def fmt_shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape) if shape else "scalar"
