"""AVERAGE_POOL_2D and MAX_POOL_2D, int8 (input and output quantization must be equal)."""

from __future__ import annotations

from edgekit.codegen.layer import KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, check_padding, fmt_shape, out_size, same_padding
from edgekit.codegen.quantmath import activation_range
from edgekit.tflite.ir import Operator

KERNEL = KernelSpec(
    file="ek_pool.c", struct="ek_pool_params",
    fields=tuple(("int32_t", n) for n in (
        "batches", "in_h", "in_w", "ch", "out_h", "out_w", "k_h", "k_w", "stride_h", "stride_w",
        "pad_h", "pad_w", "act_min", "act_max")),
    prototypes=("int ek_avg_pool_s8(const ek_pool_params *p, const int8_t *in, int8_t *out, ek_scratch scratch)",
                "int ek_max_pool_s8(const ek_pool_params *p, const int8_t *in, int8_t *out, ek_scratch scratch)"),
    cmsis_nn=True)


def cmsis_avgpool_scratch(family: str, ch: int) -> int:
    """arm_avgpool_s8_get_buffer_size (CMSIS-NN 99f736a): ch int32 on DSP cores, else 0."""
    return 4 * ch if family == "dsp" else 0


@lowering("AVERAGE_POOL_2D", "MAX_POOL_2D")
def lower_pool(ctx: LowerCtx, op: Operator) -> Layer:
    x, y = op.inputs[0], op.outputs[0]
    ctx.dtype(x)
    ctx.dtype(y)
    if ctx.qparams(x) != ctx.qparams(y):
        raise Refusal("input and output quantization differ (TFLite pools do not requantize)")
    n, ih, iw, c = ctx.shape(x)
    _, oh, ow, oc = ctx.shape(y)
    o = op.options
    padding = o.get("padding", "VALID")
    check_padding(padding)
    kh, kw = int(o["filter_height"]), int(o["filter_width"])
    sh, sw = int(o.get("stride_h", 1)), int(o.get("stride_w", 1))
    if (out_size(padding, ih, kh, sh, 1), out_size(padding, iw, kw, sw, 1), oc) != (oh, ow, c):
        raise Refusal(f"output shape {oh}x{ow}x{oc} does not follow from the input and options")
    s_out, z_out = ctx.qparams(y)
    act = ctx.activation(op)
    lo, hi = activation_range(act, s_out, z_out, "int8")
    params = dict(batches=n, in_h=ih, in_w=iw, ch=c, out_h=oh, out_w=ow, k_h=kh, k_w=kw, stride_h=sh,
                  stride_w=sw, pad_h=same_padding(padding, ih, kh, sh, 1, oh),
                  pad_w=same_padding(padding, iw, kw, sw, 1, ow), act_min=lo, act_max=hi)
    avg = op.opcode == "AVERAGE_POOL_2D"
    scratch = max((cmsis_avgpool_scratch(f, c) for f in ctx.cmsis_families), default=0) if avg else 0
    fn = "ek_avg_pool_s8" if avg else "ek_max_pool_s8"
    return Layer(op.index, op.opcode, KERNEL, fn + "(&{p}, {in0}, {out0}, {scratch})", tuple(params.items()),
                 (), (x,), (y,), scratch_bytes=scratch, summary=f"{fmt_shape((n, ih, iw, c))} -> {fmt_shape((n, oh, ow, c))}, {kh}x{kw} stride {sh}x{sw} "
                         f"{padding}, {act}")
