"""Operation and memory statistics of an IR graph (pure functions, no I/O).

Conventions (these reproduce the MLPerf Tiny / TFLM figures in PLATFORM_NOTES.md exactly):
- A MAC is one multiply-accumulate of a *weight* with an activation. Convolutions, depthwise
  convolutions, fully connected, transpose convolutions and batch matmul count
  output elements x reduction length. Recurrent ops (LSTM, RNN, SVDF) count, per time step and
  batch row, one MAC per element of their weight matrices (input, recurrent, peephole,
  projection; SVDF feature and time weights); biases and layer-norm coefficients are not counted.
- Element-wise ops, pooling, reshapes, softmax and the like have 0 MACs by this definition
  (ADD and MUL of two activations multiply no weight), not because they are free.
- Ops whose arithmetic edgekit does not model (custom ops, bidirectional RNNs, StableHLO
  convolutions) have MACs ``None`` -- never 0 -- and are listed in ``ModelStats.macs_unknown``.
- Parameter bytes are the bytes of all constant tensors, counting tensors with identical dtype
  and contents once: converters store such tensors in one shared buffer (str_ww_ref_model
  shares one 512-byte bias buffer among three tensors) and codegen emits one array.
- Activation tensors are the graph inputs and operator outputs that are neither constant nor
  variable (LSTM/SVDF state is reported separately as ``state_bytes``).
Shapes are the file's shapes: a dynamic (-1) batch is counted as stored, normally 1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from edgekit.core.errors import UnsupportedModelError
from edgekit.tflite.ir import Graph, Operator, Tensor, storage_bytes

_UNMODELLED = frozenset({
    "BIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_RNN", "CONV_3D_TRANSPOSE",
    "STABLEHLO_CONVOLUTION", "STABLEHLO_DOT_GENERAL", "STABLEHLO_REDUCE_WINDOW",
})
# Inputs of the LSTM ops that are weights: 1-4 input-to-gate, 5-8 recurrent, 9-11 peephole,
# 16 projection (tflite/kernels/lstm_shared.h numbering).
_LSTM_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16)


@dataclass(frozen=True)
class OpStats:
    index: int
    opcode: str
    output_shapes: tuple[tuple[int, ...], ...]
    macs: int | None          # None: arithmetic not modelled (custom op ...)
    weight_bytes: int         # bytes of this op's constant inputs (shared tensors count in each op)


@dataclass(frozen=True)
class ModelStats:
    name: str
    ops: tuple[OpStats, ...]
    total_macs: int                      # sum over ops whose MACs are known
    macs_unknown: tuple[int, ...]        # op indices whose MACs are None
    parameter_bytes: int
    largest_activation_bytes: int
    state_bytes: int
    op_histogram: dict[str, int]

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "total_macs": self.total_macs,
            "macs_unknown_ops": list(self.macs_unknown),
            "parameter_bytes": self.parameter_bytes,
            "largest_activation_bytes": self.largest_activation_bytes,
            "state_bytes": self.state_bytes,
            "op_histogram": dict(self.op_histogram),
            "ops": [{"index": r.index, "opcode": r.opcode,
                     "output_shapes": [list(s) for s in r.output_shapes],
                     "macs": r.macs, "weight_bytes": r.weight_bytes} for r in self.ops],
        }


def tensor_bytes(t: Tensor) -> int:
    n = storage_bytes(t.dtype, t.num_elements)
    if n is None:
        raise UnsupportedModelError(f"tensor {t.index} ({t.name!r}) has type {t.dtype}, whose size "
                                    "edgekit does not model",
                                    "use numeric tensor types (int8/int16/int32/float32 ...)")
    return n


def _elements(graph: Graph, index: int) -> int:
    return graph.tensor(index).num_elements if index >= 0 else 0


def _input(graph: Graph, op: Operator, k: int) -> Tensor:
    if k >= len(op.inputs) or op.inputs[k] < 0:
        raise UnsupportedModelError(f"operator {op.index} ({op.opcode}) lacks its input {k}",
                                    "the model is malformed for this operator; re-convert it")
    return graph.tensor(op.inputs[k])


def _rank_at_least(op: Operator, t: Tensor, rank: int) -> tuple[int, ...]:
    if len(t.shape) < rank:
        raise UnsupportedModelError(f"operator {op.index} ({op.opcode}) has a rank-{len(t.shape)} "
                                    f"tensor {t.name!r} where rank {rank} is required",
                                    "the model is malformed for this operator; re-convert it")
    return t.shape


def _steps(x: Tensor) -> int:
    """Number of (time step, batch row) pairs a recurrent op processes."""
    return int(np.prod(x.shape[:-1], dtype=np.int64)) if len(x.shape) > 1 else 1


def op_macs(graph: Graph, op: Operator) -> int | None:
    """Multiply-accumulates of one operator (see the module docstring); None if not modelled."""
    name = op.opcode
    if name.startswith("CUSTOM:") or name in _UNMODELLED:
        return None
    if not op.outputs:
        raise UnsupportedModelError(f"operator {op.index} ({op.opcode}) has no output",
                                    "the model is malformed; re-convert it")
    out = graph.tensor(op.outputs[0])
    if name == "CONV_2D":  # filter [Cout, KH, KW, Cin/groups]
        kh, kw, cin = _rank_at_least(op, _input(graph, op, 1), 4)[1:4]
        return out.num_elements * kh * kw * cin
    if name == "DEPTHWISE_CONV_2D":  # filter [1, KH, KW, Cout]
        kh, kw = _rank_at_least(op, _input(graph, op, 1), 4)[1:3]
        return out.num_elements * kh * kw
    if name == "CONV_3D":  # filter [KD, KH, KW, Cin, Cout]
        kd, kh, kw, cin = _rank_at_least(op, _input(graph, op, 1), 5)[:4]
        return out.num_elements * kd * kh * kw * cin
    if name == "TRANSPOSE_CONV":  # inputs: output_shape, filter [Cout, KH, KW, Cin], input
        cout, kh, kw = _rank_at_least(op, _input(graph, op, 1), 4)[:3]
        return _input(graph, op, 2).num_elements * kh * kw * cout
    if name == "FULLY_CONNECTED":  # weights [units, in]
        return out.num_elements * _rank_at_least(op, _input(graph, op, 1), 2)[1]
    if name == "BATCH_MATMUL":
        lhs = _rank_at_least(op, _input(graph, op, 0), 2)
        k = lhs[-2] if op.options.get("adj_x") else lhs[-1]
        return out.num_elements * k
    if name in ("UNIDIRECTIONAL_SEQUENCE_LSTM", "LSTM"):
        weights = sum(_elements(graph, op.inputs[k]) for k in _LSTM_WEIGHTS if k < len(op.inputs))
        return _steps(_input(graph, op, 0)) * weights
    if name in ("UNIDIRECTIONAL_SEQUENCE_RNN", "RNN"):  # input, weights, recurrent weights
        weights = _input(graph, op, 1).num_elements + _input(graph, op, 2).num_elements
        return _steps(_input(graph, op, 0)) * weights
    if name == "SVDF":  # input [B, in], feature weights [F, in], time weights [F, memory]
        weights = _input(graph, op, 1).num_elements + _input(graph, op, 2).num_elements
        return _steps(_input(graph, op, 0)) * weights
    return 0


def parameter_bytes(graph: Graph) -> int:
    seen: set[tuple[str, tuple[int, ...], bytes]] = set()
    total = 0
    for t in graph.tensors:
        if not t.is_constant:
            continue
        key = (t.dtype, t.shape, t.data.tobytes())
        if key not in seen:
            seen.add(key)
            total += tensor_bytes(t)
    return total


def model_stats(graph: Graph) -> ModelStats:
    rows = []
    for op in graph.operators:
        constant_inputs = {i for i in op.inputs if i >= 0 and graph.tensor(i).is_constant}
        rows.append(OpStats(
            index=op.index, opcode=op.opcode,
            output_shapes=tuple(graph.tensor(i).shape for i in op.outputs),
            macs=op_macs(graph, op),
            weight_bytes=sum(tensor_bytes(graph.tensor(i)) for i in constant_inputs)))
    activations = set(graph.inputs) | {i for op in graph.operators for i in op.outputs}
    activation_bytes = [tensor_bytes(graph.tensor(i)) for i in activations
                        if not graph.tensor(i).is_constant and not graph.tensor(i).is_variable]
    return ModelStats(
        name=graph.name,
        ops=tuple(rows),
        total_macs=sum(r.macs for r in rows if r.macs is not None),
        macs_unknown=tuple(r.index for r in rows if r.macs is None),
        parameter_bytes=parameter_bytes(graph),
        largest_activation_bytes=max(activation_bytes, default=0),
        state_bytes=sum(tensor_bytes(t) for t in graph.tensors if t.is_variable),
        op_histogram=dict(Counter(op.opcode for op in graph.operators)),
    )
