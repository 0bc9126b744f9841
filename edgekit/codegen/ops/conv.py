"""CONV_2D, int8 x int8 -> int8 with int32 bias, per-tensor or per-channel weights."""

from __future__ import annotations

import numpy as np

from edgekit.codegen.layer import ConstArray, KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import ConvGeometry, LowerCtx, conv_geometry, fmt_shape, ring_rows
from edgekit.codegen.quantmath import activation_range, conv_multipliers, wrap32
from edgekit.tflite.ir import Operator

CONV_FIELDS = tuple(("int32_t", n) for n in (
    "batches", "in_h", "in_w", "in_c", "out_h", "out_w", "out_c", "k_h", "k_w", "stride_h",
    "stride_w", "dil_h", "dil_w", "pad_h", "pad_w", "input_offset", "output_offset", "act_min",
    "act_max", "inplace_rows")) + (("const int8_t *", "weights"), ("const int32_t *", "bias"),
                   ("const int32_t *", "bias_eff"), ("const int32_t *", "mult"),
                   ("const int32_t *", "shift"))

KERNEL = KernelSpec(
    file="ek_conv.c", struct="ek_conv_params", fields=CONV_FIELDS,
    prototypes=("int ek_conv_s8(const ek_conv_params *p, const int8_t *in, int8_t *out, ek_scratch scratch)",),
    cmsis_nn=True)


def _round4(n: int) -> int:
    return n + (4 - n % 4) % 4


def pair_buffer_bytes(k: int) -> int:
    """ek_pair_words(k) * 4: two patches of k int8 widened to 16 bits, interleaved (ek_kernels.h)."""
    return 16 * (k // 4) + 8


def portable_conv_scratch(k: int, direct: bool) -> int:
    """Scratch for the portable kernel's fastest path: a pair buffer, plus one gathered patch of
    k bytes unless every patch is a run of the input (1x1 kernels without padding)."""
    return pair_buffer_bytes(k) + (0 if direct else k)


def cmsis_conv_scratch(family: str, in_hwc: tuple[int, int, int], k_hw: tuple[int, int], out_w: int,
                       stride: tuple[int, int], pad: tuple[int, int], dil: tuple[int, int]) -> int:
    """arm_convolve_wrapper_s8_get_buffer_size for one CMSIS-NN code path (checked against
    CMSIS-NN 99f736a; the generated adapter re-checks at run time and fails if this is too small)."""
    in_h, in_w, in_c = in_hwc
    kh, kw = k_hw
    one_by_one = pad == (0, 0) and (kh, kw) == (1, 1) and dil == (1, 1)
    if one_by_one:
        # 1x1 fast path: gcc builds need no buffer; Arm Compiler 6 builds need 2 * in_c int16 on DSP
        # cores and are caught by the adapter's run-time check (EK_ERR_SCRATCH).
        return 0
    rhs_cols = kh * kw * in_c
    generic = 4 * ((rhs_cols + 15) // 16) * 16 if family == "mve" else 4 * _round4(rhs_cols)
    one_by_n = in_h == 1 and dil[1] == 1 and kh == 1 and (stride[1] * in_c) % 4 == 0
    if one_by_n and family == "mve":
        total_pad = (out_w - 1) * stride[1] + kw - in_w
        asym = total_pad % 2
        pad_x = pad[1]
        right = max(1, (pad_x + asym + stride[1] - 1) // stride[1]) if pad_x + asym else 0
        left = max(1, (pad_x + stride[1] - 1) // stride[1]) if pad_x else 0
        if right + left + max(out_w - right - left, 0) != out_w:
            return generic
        left_sz = pad_x * in_c
        right_sz = right * in_c if asym else left_sz
        elems = kw * in_c
        return max(elems + left_sz, elems - in_c + right_sz)
    return generic


@lowering("CONV_2D")
def lower_conv(ctx: LowerCtx, op: Operator) -> Layer:
    x, w_i, b_i = op.inputs[0], op.inputs[1], (op.inputs[2] if len(op.inputs) > 2 else -1)
    y = op.outputs[0]
    for i in (x, y):
        ctx.dtype(i)
    ctx.dtype(w_i, ("int8",))
    w = ctx.const(w_i)
    n, ih, iw, ic = ctx.shape(x)
    _, oh, ow, oc = ctx.shape(y)
    kout, kh, kw, kc = w.shape
    if kc != ic:
        raise Refusal(f"grouped convolution ({ic} input channels, filter depth {kc}) is not supported")
    if kout != oc:
        raise Refusal(f"filter has {kout} output channels, output tensor {oc}")
    wq = ctx.t(w_i).quant
    if wq is None or np.any(wq.zero_point != 0):
        raise Refusal("weights must be symmetric int8 (zero point 0)")
    if wq.per_channel and wq.axis != 0:
        raise Refusal(f"per-channel weights quantized along axis {wq.axis}, expected 0")
    geo = conv_geometry(op, (ih, iw), (kh, kw), (oh, ow))
    if b_i >= 0 and ctx.t(b_i).dtype != "int32":
        raise Refusal(f"bias is {ctx.t(b_i).dtype}; int32 is supported")
    bias = np.zeros(oc, np.int64) if b_i < 0 else ctx.const(b_i).astype(np.int64).reshape(-1)
    return conv_layer(ctx, op, x, y, w, bias, wq.scale, wq.per_channel, geo)


def conv_layer(ctx: LowerCtx, op: Operator, x: int, y: int, w: np.ndarray, bias: np.ndarray,
               filter_scales: np.ndarray, per_channel: bool, geo: ConvGeometry) -> Layer:
    """The CONV_2D layer for weights w [out_c][k_h][k_w][in_c] (also used for depthwise
    convolutions of a single input channel, which are convolutions)."""
    n, ih, iw, ic = ctx.shape(x)
    _, oh, ow, oc = ctx.shape(y)
    _, kh, kw, _ = w.shape
    (sh, sw), (dh, dw), (ph, pw), padding = geo.stride, geo.dilation, geo.pad, geo.label
    s_in, z_in = ctx.qparams(x)
    s_out, z_out = ctx.qparams(y)
    act = ctx.activation(op)
    lo, hi = activation_range(act, s_out, z_out, "int8")
    mult, shift = conv_multipliers(s_in, filter_scales, s_out, oc)
    p = f"L{op.index}_"
    consts = (ConstArray(p + "weights", "int8_t", w.reshape(-1).astype(np.int8)),
              ConstArray(p + "bias", "int32_t", np.asarray(bias, np.int32)),
              ConstArray(p + "bias_eff", "int32_t", np.asarray(
                  [wrap32(int(b) - z_in * int(s)) for b, s in zip(bias, w.reshape(oc, -1).astype(np.int64).sum(1))],
                  np.int32)),
              ConstArray(p + "mult", "int32_t", np.asarray(mult, np.int32)),
              ConstArray(p + "shift", "int32_t", np.asarray(shift, np.int32)))
    params = dict(batches=n, in_h=ih, in_w=iw, in_c=ic, out_h=oh, out_w=ow, out_c=oc, k_h=kh, k_w=kw,
                  stride_h=sh, stride_w=sw, dil_h=dh, dil_w=dw, pad_h=ph, pad_w=pw, input_offset=-z_in,
                  output_offset=z_out, act_min=lo, act_max=hi, weights=consts[0], bias=consts[1],
                  bias_eff=consts[2], mult=consts[3], shift=consts[4], inplace_rows=0)
    k = kh * kw * ic
    direct = (kh, kw, ph, pw) == (1, 1, 0, 0)     # every patch is a run of the input: nothing to gather
    scratch = max([portable_conv_scratch(k, direct)] + [
        cmsis_conv_scratch(f, (ih, iw, ic), (kh, kw), ow, (sh, sw), (ph, pw), (dh, dw)) for f in ctx.cmsis_families])
    kind = "as a convolution (one input channel)" if op.opcode == "DEPTHWISE_CONV_2D" else ""
    # In place: 1x1 unit-stride by pairs of pixels copied (widened) to scratch, or by bands of about
    # 4 pixels for CMSIS-NN; other single-image convolutions by rows through a ring (scratch: the
    # ring, then the portable kernel's patch buffers or CMSIS-NN's), see ek_conv.c.
    pointwise = (kh, kw, sh, sw, dh, dw, ph, pw) == (1, 1, 1, 1, 1, 1, 0, 0)
    inplace_scratch = pair_buffer_bytes(ic)
    if not pointwise and n == 1:
        rows = ring_rows(iw * ic, ow * oc, oh, sh, ph)
        params["inplace_rows"] = rows
        band_buf = max((cmsis_conv_scratch(f, (h, iw, ic), (kh, kw), ow, (sh, sw), (ph, pw), (dh, dw))
                        for f in ctx.cmsis_families for h in (ih, 1)), default=0)
        inplace_scratch = _round4(rows * ow * oc) + _round4(max(band_buf, portable_conv_scratch(k, direct)))
    return Layer(op.index, op.opcode, KERNEL, "ek_conv_s8(&{p}, {in0}, {out0}, {scratch})",
                 tuple(params.items()), consts, (x,), (y,), scratch_bytes=scratch,
                 inplace=(x,) if pointwise or n == 1 else (), inplace_scratch_bytes=inplace_scratch,
                 summary=(f"{fmt_shape((n, ih, iw, ic))} -> {fmt_shape((n, oh, ow, oc))}, {kh}x{kw} "
                          f"stride {sh}x{sw} dilation {dh}x{dw} {padding}, {act}, "
                          f"{'per-channel' if per_channel else 'per-tensor'}{', ' + kind if kind else ''}"))
