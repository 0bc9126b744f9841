"""The lowered model: what a TFLite operator becomes in generated C.

A lowering (one file per op family in ``ops/``) turns an ``Operator`` into a ``Layer``: which C
kernel to call, the values of its parameter struct, the constant arrays it needs in flash, the
scratch it may use and its cost. The C side of a kernel is described once, by a ``KernelSpec``:
its source file under ``kernels/portable`` (and, when CMSIS-NN accelerates it, a file of the same
name under ``kernels/cmsis_nn``), its parameter struct's fields and its entry points. The emitter
writes the struct definitions and prototypes of the kernels a model uses into ``ek_ops.h``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CTYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "uint8": "uint8_t",
          "float32": "float", "bool": "uint8_t", "int64": "int64_t"}


class Refusal(Exception):
    """Raised by a lowering: this operator (as configured) cannot be generated; the text says why."""


@dataclass(frozen=True)
class KernelSpec:
    file: str                              # e.g. "ek_conv.c"
    struct: str                            # parameter struct type, e.g. "ek_conv_params"
    fields: tuple[tuple[str, str], ...]    # (C type, field declarator), e.g. ("int32_t", "out_dims[6]")
    prototypes: tuple[str, ...]            # entry points, full C declarations without ';'
    cmsis_nn: bool = False                 # kernels/cmsis_nn/<file> replaces it when built for CMSIS-NN

    def c_declarations(self) -> str:
        body = "\n".join(f"  {t}{'' if t.endswith('*') else ' '}{n};" for t, n in self.fields)
        protos = "\n".join(f"{p};" for p in self.prototypes)
        return f"typedef struct {{\n{body}\n}} {self.struct};\n{protos}\n"


@dataclass(frozen=True)
class ConstArray:
    """A constant array in flash. ``values`` is 1-D; ``ctype`` its C element type."""
    name: str
    ctype: str
    values: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.values.size * self.values.dtype.itemsize)


@dataclass(frozen=True)
class Layer:
    op_index: int
    opcode: str
    kernel: KernelSpec | None              # None: a view (the output shares the input's bytes)
    call: str = ""                         # C call, with {p} {in0} {in1} ... {out0} {scratch} {ins}
    params: tuple[tuple[str, object], ...] = ()   # struct field -> int, float, str (C expr), list, ConstArray
    consts: tuple[ConstArray, ...] = ()
    inputs: tuple[int, ...] = ()           # tensors bound to {in0}, {in1}, ... (activations or constants)
    outputs: tuple[int, ...] = ()
    scratch_bytes: int = 0                 # scratch the kernels may use, any backend
    inplace: tuple[int, ...] = ()          # inputs whose memory the output may reuse (first that dies here)
    inplace_scratch_bytes: int = 0         # scratch needed instead when it runs in place
    macs: int = 0
    summary: str = ""                      # shapes and options, for the comment above the call
    extra_files: tuple[str, ...] = field(default=())   # other portable kernel files it needs


@dataclass(frozen=True)
class RefusedOp:
    op_index: int
    opcode: str
    reason: str

    def __str__(self) -> str:
        return f"op {self.op_index} {self.opcode}: {self.reason}"
