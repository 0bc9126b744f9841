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


EXPLICIT_PADDING = "edgekit_explicit_padding"   # option set by graph rewrites (see dilation.py)


@dataclass(frozen=True)
class ConvGeometry:
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad: tuple[int, int]          # leading padding (rows, columns); trailing taps past the edge are skipped
    label: str                    # "SAME", "VALID" or "padding 2x2", for the comment above the call


def conv_geometry(op: Operator, in_hw: tuple[int, int], k_hw: tuple[int, int], out_hw: tuple[int, int]) -> ConvGeometry:
    """Strides, dilations and leading padding of a CONV_2D / DEPTHWISE_CONV_2D, checked against
    the output shape. A rewrite may give the leading padding explicitly (a dilated convolution
    recovered from SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND), which SAME/VALID cannot express."""
    o = op.options
    (ih, iw), (kh, kw), (oh, ow) = in_hw, k_hw, out_hw
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    dh, dw = int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))
    if min(sh, sw, dh, dw) < 1:
        raise Refusal(f"stride {sh}x{sw} / dilation {dh}x{dw} must be positive")
    explicit = o.get(EXPLICIT_PADDING)
    if explicit is not None:
        ph, pw = (int(v) for v in explicit)
        return ConvGeometry((sh, sw), (dh, dw), (ph, pw), f"padding {ph}x{pw}")
    padding = o.get("padding", "SAME")
    check_padding(padding)
    if (out_size(padding, ih, kh, sh, dh), out_size(padding, iw, kw, sw, dw)) != (oh, ow):
        raise Refusal(f"output shape {oh}x{ow} does not follow from the input and options")
    return ConvGeometry((sh, sw), (dh, dw), (same_padding(padding, ih, kh, sh, dh, oh),
                                            same_padding(padding, iw, kw, sw, dw, ow)), padding)


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


def strided_slice_plan(shape: tuple[int, ...], begin: list[int], end: list[int], strides: list[int],
                       options: dict) -> tuple[list[tuple[int, int, int]], tuple[int, ...]]:
    """STRIDED_SLICE on a static shape: per input dimension (start, count, step), and the output
    shape (shrunk dimensions removed). TFLite's rules: a set bit of begin_mask / end_mask ignores
    begin / end, shrink_axis_mask keeps the single element at begin and drops the dimension,
    ``offset`` makes end relative to begin; indices clamp like Python slices."""
    if options.get("ellipsis_mask", 0) or options.get("new_axis_mask", 0):
        raise Refusal("STRIDED_SLICE with ellipsis_mask / new_axis_mask is not supported")
    n = len(shape)
    if not len(begin) == len(end) == len(strides) <= n:
        raise Refusal(f"STRIDED_SLICE has {len(begin)}/{len(end)}/{len(strides)} indices for rank {n}")
    bm, em, sm = (int(options.get(k, 0)) for k in ("begin_mask", "end_mask", "shrink_axis_mask"))
    plan, out_shape = [], []
    for d in range(n):
        size = shape[d]
        if d >= len(begin):
            plan.append((0, size, 1))
            out_shape.append(size)
            continue
        b, e, s = int(begin[d]), int(end[d]), int(strides[d])
        if s == 0:
            raise Refusal("STRIDED_SLICE with a zero stride")
        if sm >> d & 1:
            idx = b + size if b < 0 else b
            if not 0 <= idx < size:
                raise Refusal(f"STRIDED_SLICE index {b} is outside dimension {d} of size {size}")
            plan.append((idx, 1, 1))
            continue
        if options.get("offset") and not em >> d & 1:
            e = b + e
        start, stop, step = slice(None if bm >> d & 1 else b, None if em >> d & 1 else e, s).indices(size)
        count = len(range(start, stop, step))
        plan.append((start, count, step))
        out_shape.append(count)
    return plan, tuple(out_shape)
