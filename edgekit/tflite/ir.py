"""A small, immutable graph IR of a TFLite model: what every later stage reads.

Tensors keep TFLite's shapes (NHWC for images). Constant tensors carry their data as a typed,
shaped numpy array. Quantization is per-tensor (axis None, one scale) or per-channel (axis set).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

DTYPE_BYTES = {"int8": 1, "uint8": 1, "bool": 1, "int16": 2, "uint16": 2, "float16": 2, "bfloat16": 2,
               "int32": 4, "uint32": 4, "float32": 4, "int64": 8, "uint64": 8, "float64": 8,
               "complex64": 8, "complex128": 16}


def storage_bytes(dtype: str, num_elements: int) -> int | None:
    """Bytes that num_elements of dtype occupy; int4 packs two per byte; None for an unknown type."""
    if dtype == "int4":
        return (num_elements + 1) // 2
    item = DTYPE_BYTES.get(dtype)
    return None if item is None else num_elements * item


@dataclass(frozen=True)
class Quant:
    scale: np.ndarray        # float32, shape (1,) per-tensor or (C,) per-channel
    zero_point: np.ndarray   # int64, same shape as scale
    axis: int | None         # quantized dimension for per-channel, None for per-tensor

    @property
    def per_channel(self) -> bool:
        return self.axis is not None


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quant | None = None
    data: np.ndarray | None = None      # constant buffer, typed and shaped; None for activations
    is_variable: bool = False           # LSTM/SVDF state
    shape_signature: tuple[int, ...] | None = None  # as in the file; -1 marks a dynamic dimension

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def is_dynamic(self) -> bool:
        return self.shape_signature is not None and -1 in self.shape_signature

    @property
    def num_elements(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        n = storage_bytes(self.dtype, self.num_elements)
        if n is None:
            raise KeyError(f"tensor {self.name!r} has type {self.dtype}, whose size is not modelled")
        return n


@dataclass(frozen=True)
class Operator:
    index: int                  # position in execution order
    opcode: str                 # builtin name, e.g. "CONV_2D"; custom ops are "CUSTOM:<code>"
    inputs: tuple[int, ...]     # tensor indices, -1 for an omitted optional input
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)  # snake_case builtin options; enums as names
    version: int = 1


@dataclass(frozen=True)
class Graph:
    name: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    sha256: str = ""
    description: str = ""

    def tensor(self, i: int) -> Tensor:
        return self.tensors[i]

    def producers(self) -> dict[int, int]:
        """tensor index -> index of the operator that writes it."""
        return {t: op.index for op in self.operators for t in op.outputs}

    def consumers(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for op in self.operators:
            for t in op.inputs:
                if t >= 0:
                    out.setdefault(t, []).append(op.index)
        return out
