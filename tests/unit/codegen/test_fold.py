"""Shape computations (SHAPE, STRIDED_SLICE, PACK, GATHER, REDUCE_PROD, CONCATENATION, CAST, FILL)
fold into constants before lowering; the RESHAPE they feed stays a view."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from edgekit.codegen.fold import fold_shape_computations
from edgekit.codegen.generate import generate
from edgekit.codegen.layer import Refusal
from edgekit.codegen.ops.common import strided_slice_plan
from edgekit.codegen.rewrite import is_removed
from edgekit.tflite.ir import Graph, Operator, Quant, Tensor


def _q(scale: float = 0.05, zp: int = 0) -> Quant:
    return Quant(np.array([scale], np.float32), np.array([zp], np.int64), None)


def _const(i: int, values, dtype=np.int32) -> Tensor:
    v = np.asarray(values, dtype)
    return Tensor(i, f"c{i}", v.shape, str(v.dtype), None, data=v)


def _shape_graph() -> Graph:
    """x [1,6,6,4] int8 -> RESHAPE to [batch, 9, 16] where batch = SHAPE(x)[0] (a Keras 3 Reshape),
    plus a second target computed with GATHER / REDUCE_PROD / CONCATENATION / CAST / FILL."""
    t = [Tensor(0, "x", (1, 6, 6, 4), "int8", _q()),
         Tensor(1, "shape", (4,), "int32"), _const(2, [0]), _const(3, [1]), _const(4, [1]),
         Tensor(5, "batch", (), "int32"), _const(6, 9), _const(7, 16),
         Tensor(8, "target", (3,), "int32"), Tensor(9, "y", (1, 9, 16), "int8", _q()),
         _const(10, [1, 2, 3]), Tensor(11, "hwc", (3,), "int32"), _const(12, [0]),
         Tensor(13, "hwc_prod", (), "int32"), Tensor(14, "batch1", (1,), "int32"), Tensor(15, "prod1", (1,), "int32"),
         Tensor(16, "target2", (2,), "int32"), Tensor(17, "target2_64", (2,), "int64"),
         Tensor(18, "ones", (2, 3), "int32"), _const(19, [2, 3]), _const(20, 1),
         Tensor(21, "z", (1, 144), "int8", _q())]
    ops = [Operator(0, "SHAPE", (0,), (1,), {"out_type": "int32"}),
           Operator(1, "STRIDED_SLICE", (1, 2, 3, 4), (5,), {"shrink_axis_mask": 1}),
           Operator(2, "PACK", (5, 6, 7), (8,), {"values_count": 3, "axis": 0}),
           Operator(3, "RESHAPE", (0, 8), (9,)),
           Operator(4, "GATHER", (1, 10), (11,), {"axis": 0}),
           Operator(5, "REDUCE_PROD", (11, 12), (13,), {"keep_dims": False}),
           Operator(6, "RESHAPE", (5, 3), (14,)),
           Operator(7, "EXPAND_DIMS", (13, 12), (15,)),
           Operator(8, "CONCATENATION", (14, 15), (16,), {"axis": 0, "fused_activation_function": "NONE"}),
           Operator(9, "CAST", (16,), (17,)),
           Operator(10, "FILL", (19, 20), (18,)),
           Operator(11, "RESHAPE", (9, 17), (21,))]
    return Graph("shapes", tuple(t), tuple(ops), (0,), (21,), sha256="0" * 64)


def test_shape_computations_become_constants():
    g = fold_shape_computations(_shape_graph())
    x_shape = np.asarray(g.tensors[0].shape)
    assert g.tensors[1].data.tolist() == x_shape.tolist()
    assert int(g.tensors[5].data) == x_shape[0]
    assert g.tensors[8].data.tolist() == [x_shape[0], 9, 16]
    assert g.tensors[11].data.tolist() == x_shape[[1, 2, 3]].tolist()
    assert int(g.tensors[13].data) == int(np.prod(x_shape[1:]))
    assert g.tensors[17].data.tolist() == [x_shape[0], int(np.prod(x_shape[1:]))]
    assert g.tensors[17].data.dtype == np.int64
    assert g.tensors[18].data.tolist() == np.ones((2, 3), np.int32).tolist()
    folded = [op.index for op in g.operators if is_removed(op)]
    assert folded == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10]          # the int8 RESHAPEs (3, 11) stay
    assert all(not op.inputs and not op.outputs for op in g.operators if is_removed(op))


def test_folded_model_generates_views_and_no_code_for_the_shape_ops():
    gen = generate(_shape_graph())
    by_op = {layer.op_index: layer for layer in gen.model.layers}
    assert by_op[3].kernel is None and by_op[11].kernel is None       # views
    assert "folded at code generation into constant int32 [1, 9, 16]" in by_op[2].summary
    src = gen.rendered["shapes.c"]
    assert "  EK_RUN(" not in src and "op 0 SHAPE: folded" in src
    # x, y and z are one buffer: the arena holds exactly one 144-byte activation
    assert gen.memory.plan.arena_bytes == 144


def test_quantized_and_data_dependent_ops_are_not_folded():
    t = [Tensor(0, "x", (1, 4), "int8", _q()), Tensor(1, "w", (1, 4), "int8", _q(), data=np.ones((1, 4), np.int8)),
         Tensor(2, "cat", (2, 4), "int8", _q()), Tensor(3, "y", (1, 4), "int8", _q())]
    ops = [Operator(0, "CONCATENATION", (0, 1), (2,), {"axis": 0}),      # int8 with quantization: real data
           Operator(1, "STRIDED_SLICE", (2,), (3,))]                      # missing begin/end: left alone
    g = Graph("q", tuple(t), tuple(ops), (0,), (3,), sha256="0" * 64)
    assert fold_shape_computations(g) is g


@pytest.mark.parametrize("shape", [(5,), (4, 6), (3, 4, 5)])
def test_strided_slice_plan_matches_numpy_slicing(shape):
    """Every begin/end/stride/mask combination on small shapes, against numpy's own slicing."""
    rng = np.random.default_rng(len(shape))
    x = np.arange(int(np.prod(shape))).reshape(shape)
    checked = 0
    for _ in range(400):
        n = len(shape)
        begin = rng.integers(-7, 7, n).tolist()
        end = rng.integers(-7, 7, n).tolist()
        strides = [int(v) or 1 for v in rng.choice([-3, -2, -1, 1, 2, 3], n)]
        masks = {k: int(rng.integers(0, 1 << n)) for k in ("begin_mask", "end_mask")}
        shrink = int(rng.integers(0, 1 << n)) if rng.random() < 0.3 else 0
        idx = []
        for d in range(n):
            if shrink >> d & 1:
                idx.append(begin[d])
                continue
            idx.append(slice(None if masks["begin_mask"] >> d & 1 else begin[d],
                             None if masks["end_mask"] >> d & 1 else end[d], strides[d]))
        try:
            want = x[tuple(idx)]
        except IndexError:
            with pytest.raises(Refusal):
                strided_slice_plan(shape, begin, end, strides, dict(masks, shrink_axis_mask=shrink))
            continue
        plan, out_shape = strided_slice_plan(shape, begin, end, strides, dict(masks, shrink_axis_mask=shrink))
        got = np.array([x[tuple(a + i * s for (a, _, s), i in zip(plan, ii))]
                        for ii in itertools.product(*(range(c) for _, c, _ in plan))]).reshape(out_shape)
        assert out_shape == want.shape and np.array_equal(got, want)
        checked += 1
    assert checked > 250
