"""Host-side models of kernel details: in-place ring sizes, CMSIS-NN scratch sizes, C rendering."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.codegen.emit import _c_value, c_identifier
from edgekit.codegen.layer import ConstArray, KernelSpec
from edgekit.codegen.ops.conv import cmsis_conv_scratch
from edgekit.codegen.ops.depthwise import cmsis_dw_scratch, ring_rows
from edgekit.codegen.ops.elementwise import broadcast_strides


def _ring_is_safe(in_h, in_w, c, out_h, out_w, stride, pad, k, rows) -> bool:
    """Replays the in-place schedule and checks no output row overwrites input still needed."""
    orow, irow = out_w * c, in_w * c
    flushed = 0
    for r in range(out_h):
        if r - flushed >= rows:
            return False
        while flushed <= r:
            first = max(0, (r + 1) * stride - pad) if r + 1 < out_h else in_h
            if r + 1 < out_h and (flushed + 1) * orow > first * irow:
                break
            # rows r' > r read input rows >= first: the flushed bytes must lie below them
            assert (flushed + 1) * orow <= first * irow or r + 1 == out_h
            flushed += 1
    return flushed == out_h


@pytest.mark.parametrize("in_h,in_w,c,k,stride,pad", [
    (25, 5, 64, 3, 1, 1), (48, 48, 8, 3, 2, 0), (24, 1, 128, 10, 1, 0), (12, 12, 16, 5, 1, 2), (7, 9, 3, 3, 2, 1)])
def test_ring_rows_schedule_never_overwrites_live_input(in_h, in_w, c, k, stride, pad):
    out_h = (in_h + 2 * pad - k) // stride + 1
    out_w = (in_w + 2 * pad - k) // stride + 1
    rows = ring_rows(in_w * c, out_w * c, out_h, stride, pad)
    assert 1 <= rows <= out_h
    assert _ring_is_safe(in_h, in_w, c, out_h, out_w, stride, pad, k, rows)
    assert not _ring_is_safe(in_h, in_w, c, out_h, out_w, stride, pad, k, rows - 1) if rows > 1 else True


def test_cmsis_scratch_sizes_follow_cmsis_nn_formulas():
    # generic convolution: 2 * aligned(k*k*c) int16 on plain C / DSP, 4 x 16-byte lanes on MVE
    assert cmsis_conv_scratch("dsp", (32, 32, 16), (3, 3), 32, (1, 1), (1, 1), (1, 1)) == 4 * 144
    assert cmsis_conv_scratch("mve", (32, 32, 16), (3, 3), 32, (1, 1), (1, 1), (1, 1)) == 4 * 144
    assert cmsis_conv_scratch("none", (10, 10, 3), (3, 3), 10, (1, 1), (1, 1), (1, 1)) == 4 * 28
    assert cmsis_conv_scratch("dsp", (25, 5, 64), (1, 1), 5, (1, 1), (0, 0), (1, 1)) == 0   # 1x1 (gcc)
    # depthwise: none for 3x3 pad <= 1 on DSP, c*k*k int16 otherwise; MVE blocks of 124 channels
    assert cmsis_dw_scratch("dsp", 1, (25, 5, 64), 64, (3, 3), 5, (1, 1), (1, 1), (1, 1)) == 0
    assert cmsis_dw_scratch("dsp", 1, (24, 1, 128), 128, (10, 1), 1, (1, 1), (0, 0), (1, 1)) == 128 * 10 * 2
    assert cmsis_dw_scratch("mve", 1, (25, 5, 64), 64, (3, 3), 5, (1, 1), (1, 1), (1, 1)) == 4 * 124 * 9
    assert cmsis_dw_scratch("none", 1, (25, 5, 64), 64, (3, 3), 5, (1, 1), (1, 1), (1, 1)) == 0


def test_broadcast_strides():
    dims, a, b = broadcast_strides((1, 4, 1, 3), (5, 1), (1, 4, 5, 3))
    assert dims == [1, 1, 1, 4, 5, 3]
    assert a[3:] == [3, 0, 1] and b[3:] == [0, 1, 0]


def test_c_rendering_helpers():
    assert c_identifier("kws-ref.model 8") == "kws_ref_model_8"
    assert c_identifier("2stage") == "m_2stage"
    assert _c_value(-(1 << 31), "int32_t") == "(int32_t)-2147483647 - 1"
    assert _c_value([1, -2], "int32_t") == "{1, -2}"
    assert _c_value(0.1, "float") == f"{float(np.float32(0.1))!r}f"
    assert _c_value(ConstArray("L3_bias", "int32_t", np.zeros(2, np.int32)), "const int32_t *") == "L3_bias"
    spec = KernelSpec("ek_x.c", "ek_x_params", (("int32_t", "n"), ("const int8_t *", "w"), ("int32_t", "d[6]")),
                      ("int ek_x(const ek_x_params *p)",))
    decl = spec.c_declarations()
    assert "  int32_t n;" in decl and "  const int8_t *w;" in decl and "  int32_t d[6];" in decl
    assert decl.rstrip().endswith("int ek_x(const ek_x_params *p);")
