"""ADD and MUL, int8, with broadcasting; the output may reuse the memory of a same-shape input."""

from __future__ import annotations

from edgekit.codegen.layer import KernelSpec, Layer, Refusal
from edgekit.codegen.ops import lowering
from edgekit.codegen.ops.common import LowerCtx, fmt_shape
from edgekit.codegen.quantmath import activation_range, f32, quantize_multiplier
from edgekit.tflite.ir import Operator

KERNEL = KernelSpec(
    file="ek_elementwise.c", struct="ek_binary_params",
    fields=(("int32_t", "out_dims[6]"), ("int32_t", "in1_strides[6]"), ("int32_t", "in2_strides[6]")) +
    tuple(("int32_t", n) for n in (
        "broadcast", "size", "input1_offset", "input2_offset", "output_offset", "left_shift",
        "input1_mult", "input1_shift", "input2_mult", "input2_shift", "output_mult", "output_shift",
        "act_min", "act_max")),
    prototypes=("int ek_add_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out)",
                "int ek_mul_s8(const ek_binary_params *p, const int8_t *a, const int8_t *b, int8_t *out)"),
    cmsis_nn=True)

MAX_RANK = 6


def broadcast_strides(a: tuple[int, ...], b: tuple[int, ...],
                      out: tuple[int, ...]) -> tuple[list[int], list[int], list[int]]:
    """Output dims padded to 6 and each input's element strides along them (0 where broadcast)."""
    if len(out) > MAX_RANK:
        raise Refusal(f"rank {len(out)} broadcasting; at most {MAX_RANK} dimensions are supported")
    dims = [1] * (MAX_RANK - len(out)) + list(out)
    strides = []
    for shp in (a, b):
        s = [1] * (MAX_RANK - len(shp)) + list(shp)
        st, acc = [0] * MAX_RANK, 1
        for k in range(MAX_RANK - 1, -1, -1):
            if s[k] == dims[k]:
                st[k] = acc if s[k] > 1 else 0
            elif s[k] == 1:
                st[k] = 0
            else:
                raise Refusal(f"shapes {a} and {b} do not broadcast to {out}")
            acc *= s[k]
        strides.append(st)
    return dims, strides[0], strides[1]


@lowering("ADD", "MUL")
def lower_binary(ctx: LowerCtx, op: Operator) -> Layer:
    a, b, y = op.inputs[0], op.inputs[1], op.outputs[0]
    for i in (a, b, y):
        ctx.dtype(i)
    sa, za = ctx.qparams(a)
    sb, zb = ctx.qparams(b)
    so, zo = ctx.qparams(y)
    act = ctx.activation(op)
    lo, hi = activation_range(act, so, zo, "int8")
    shp_a, shp_b, shp_y = ctx.shape(a), ctx.shape(b), ctx.shape(y)
    dims, st_a, st_b = broadcast_strides(shp_a, shp_b, shp_y)
    broadcast = int(not (shp_a == shp_b == shp_y))
    size = ctx.t(y).num_elements
    params = dict(out_dims=dims, in1_strides=st_a, in2_strides=st_b, broadcast=broadcast, size=size,
                  input1_offset=-za, input2_offset=-zb, output_offset=zo, left_shift=0, input1_mult=0,
                  input1_shift=0, input2_mult=0, input2_shift=0, output_mult=0, output_shift=0,
                  act_min=lo, act_max=hi)
    if op.opcode == "ADD":
        twice_max = 2.0 * float(max(f32(sa), f32(sb)))
        m1, s1 = quantize_multiplier(float(f32(sa)) / twice_max)
        m2, s2 = quantize_multiplier(float(f32(sb)) / twice_max)
        mo, so_ = quantize_multiplier(twice_max / ((1 << 20) * float(f32(so))))
        if max(s1, s2, so_) > 0:
            raise Refusal("ADD rescale factor is not below 1 (TFLite requires it)")
        params.update(left_shift=20, input1_mult=m1, input1_shift=s1, input2_mult=m2, input2_shift=s2,
                      output_mult=mo, output_shift=so_)
        fn = "ek_add_s8"
    else:
        mo, so_ = quantize_multiplier(float(f32(sa)) * float(f32(sb)) / float(f32(so)))
        params.update(output_mult=mo, output_shift=so_)
        fn = "ek_mul_s8"
    inplace = tuple(c for c, shp in ((a, shp_a), (b, shp_b)) if shp == shp_y and not ctx.t(c).is_constant)
    return Layer(op.index, op.opcode, KERNEL, fn + "(&{p}, {in0}, {in1}, {out0})", tuple(params.items()),
                 (), (a, b), (y,), inplace=inplace, summary=f"{fmt_shape(shp_a)} {'+' if fn == 'ek_add_s8' else '*'} {fmt_shape(shp_b)} -> "
                         f"{fmt_shape(shp_y)}, {act}")
