"""DEPTHWISE_CONV_2D, int8 x int8 -> int8 with int32 bias; may run in place (see ek_depthwise_conv.c)."""

from __future__ import annotations

import numpy as np

from edgekit.codegen.layer import ConstArray, KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, conv_geometry, fmt_shape, ring_rows
from edgekit.codegen.ops.conv import cmsis_conv_scratch, conv_layer
from edgekit.codegen.quantmath import activation_range, conv_multipliers
from edgekit.tflite.ir import Operator

KERNEL = KernelSpec(
    file="ek_depthwise_conv.c", struct="ek_depthwise_conv_params",
    fields=tuple(("int32_t", n) for n in (
        "batches", "in_h", "in_w", "in_c", "out_h", "out_w", "out_c", "depth_mult", "k_h", "k_w",
        "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w", "input_offset", "output_offset",
        "act_min", "act_max", "inplace_rows")) + (("const int8_t *", "weights"), ("const int32_t *", "bias"),
                                  ("const int32_t *", "mult"), ("const int32_t *", "shift")),
    prototypes=("int ek_depthwise_conv_s8(const ek_depthwise_conv_params *p, const int8_t *in, int8_t *out, "
                "ek_scratch scratch)",),
    cmsis_nn=True)

_CH_IN_BLOCK_MVE = 124
_DW_TO_CONV_THRESHOLD = 8   # CONVERT_DW_CONV_WITH_ONE_INPUT_CH_AND_OUTPUT_CH_ABOVE_THRESHOLD (gcc)


def cmsis_dw_scratch(family: str, n: int, in_hwc: tuple[int, int, int], out_c: int, k_hw: tuple[int, int],
                     out_w: int, stride: tuple[int, int], pad: tuple[int, int], dil: tuple[int, int]) -> int:
    """arm_depthwise_conv_wrapper_s8_get_buffer_size per code path (CMSIS-NN 99f736a)."""
    ih, iw, ic = in_hwc
    kh, kw = k_hw
    size = 0
    if family == "mve" and ic == 1 and out_c > _DW_TO_CONV_THRESHOLD:
        # gcc builds convert at > 8 output channels (Arm Compiler 6 at > 1: caught at run time)
        size = cmsis_conv_scratch("mve", in_hwc, k_hw, out_w, stride, pad, dil) + out_c * kh * kw
    if ic == out_c and n == 1 and dil == (1, 1):
        if family == "mve":
            size = max(size, 4 * _CH_IN_BLOCK_MVE * kw * kh)
        elif family == "dsp" and not ((kh, kw) == (3, 3) and pad[0] <= 1 and pad[1] <= 1):
            size = max(size, ic * kw * kh * 2)
    return size


@lowering("DEPTHWISE_CONV_2D")
def lower_depthwise(ctx: LowerCtx, op: Operator) -> Layer:
    x, w_i, b_i = op.inputs[0], op.inputs[1], (op.inputs[2] if len(op.inputs) > 2 else -1)
    y = op.outputs[0]
    ctx.dtype(x)
    ctx.dtype(y)
    ctx.dtype(w_i)
    w = ctx.const(w_i)
    n, ih, iw, ic = ctx.shape(x)
    _, oh, ow, oc = ctx.shape(y)
    one, kh, kw, wc = w.shape
    if one != 1 or wc != oc:
        raise Refusal(f"filter shape {w.shape} does not match {oc} output channels")
    mult_opt = int(op.options.get("depth_multiplier", oc // max(ic, 1)) or oc // max(ic, 1))
    if ic * (oc // ic) != oc:
        raise Refusal(f"{oc} output channels is not a multiple of {ic} input channels")
    depth_mult = oc // ic
    if mult_opt not in (depth_mult, 0):
        raise Refusal(f"depth_multiplier {mult_opt} does not match {ic} -> {oc} channels")
    wq = ctx.t(w_i).quant
    if wq is None or np.any(wq.zero_point != 0):
        raise Refusal("weights must be symmetric int8 (zero point 0)")
    if wq.per_channel and wq.axis != 3:
        raise Refusal(f"per-channel weights quantized along axis {wq.axis}, expected 3")
    geo = conv_geometry(op, (ih, iw), (kh, kw), (oh, ow))
    (sh, sw), (dh, dw), (ph, pw), padding = geo.stride, geo.dilation, geo.pad, geo.label
    if b_i >= 0 and ctx.t(b_i).dtype != "int32":
        raise Refusal(f"bias is {ctx.t(b_i).dtype}; int32 is supported")
    if ic == 1 and oc > 1:
        # One input channel: a convolution with weights [out_c][k_h][k_w][1] (the same products,
        # summed in the same integers), which runs as a dense dot product per pixel.
        w_conv = np.ascontiguousarray(np.transpose(w, (3, 1, 2, 0)))
        bias64 = np.zeros(oc, np.int64) if b_i < 0 else ctx.const(b_i).astype(np.int64).reshape(-1)
        return conv_layer(ctx, op, x, y, w_conv, bias64, wq.scale, wq.per_channel, geo)
    s_in, z_in = ctx.qparams(x)
    s_out, z_out = ctx.qparams(y)
    act = ctx.activation(op)
    lo, hi = activation_range(act, s_out, z_out, "int8")
    mult, shift = conv_multipliers(s_in, wq.scale, s_out, oc)
    bias = np.zeros(oc, np.int32) if b_i < 0 else ctx.const(b_i).astype(np.int32)
    p = f"L{op.index}_"
    consts = (ConstArray(p + "weights", "int8_t", w.reshape(-1).astype(np.int8)),
              ConstArray(p + "bias", "int32_t", bias.reshape(-1)),
              ConstArray(p + "mult", "int32_t", np.asarray(mult, np.int32)),
              ConstArray(p + "shift", "int32_t", np.asarray(shift, np.int32)))
    params = dict(batches=n, in_h=ih, in_w=iw, in_c=ic, out_h=oh, out_w=ow, out_c=oc, depth_mult=depth_mult,
                  k_h=kh, k_w=kw, stride_h=sh, stride_w=sw, dil_h=dh, dil_w=dw, pad_h=ph, pad_w=pw,
                  input_offset=-z_in, output_offset=z_out, act_min=lo, act_max=hi, weights=consts[0],
                  bias=consts[1], mult=consts[2], shift=consts[3])
    scratch = max((cmsis_dw_scratch(f, n, (ih, iw, ic), oc, (kh, kw), ow, (sh, sw), (ph, pw), (dh, dw))
                   for f in ctx.cmsis_families), default=0)
    inplace = (x,) if depth_mult == 1 and n == 1 else ()
    # In place by rows (fast, channel-contiguous) unless its ring is much larger than one plane
    # (the channel-by-channel way reads with a stride of in_c and is several times slower).
    rows = ring_rows(iw * ic, ow * oc, oh, sh, ph)
    use_rows = rows * ow * oc <= max(8 * oh * ow, 2048)
    params["inplace_rows"] = rows if use_rows else 0
    inplace_scratch = rows * ow * oc if use_rows else oh * ow
    return Layer(op.index, op.opcode, KERNEL, "ek_depthwise_conv_s8(&{p}, {in0}, {out0}, {scratch})",
                 tuple(params.items()), consts, (x,), (y,), scratch_bytes=scratch, inplace=inplace,
                 inplace_scratch_bytes=inplace_scratch, summary=(f"{fmt_shape((n, ih, iw, ic))} -> {fmt_shape((n, oh, ow, oc))}, {kh}x{kw} "
                          f"stride {sh}x{sw} dilation {dh}x{dw} {padding}, multiplier {depth_mult}, {act}"))
