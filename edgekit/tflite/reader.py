"""Read a .tflite file into the edgekit IR (edgekit.tflite.ir.Graph).

The file is checked before it is trusted: identifier "TFL3", a bounds walk of every table
(flatbuffer_check), then semantic checks (indices in range, buffer sizes equal to what shape and
dtype need). Anything wrong with the bytes becomes ``InputFileError``; a well-formed model that
the IR cannot represent (several subgraphs, sparse or external weights, blockwise quantization)
becomes ``UnsupportedModelError`` naming the feature.

Conventions the IR relies on:
- opcode names are BuiltinOperator names; custom ops are ``"CUSTOM:<custom_code>"``;
- ``Operator.options`` holds the builtin options (options.py); custom ops carry their raw
  ``custom_options`` bytes, and operators that list intermediate tensors (int8 LSTM keeps its gate
  quantization there) carry ``intermediates`` as a tuple of tensor indices;
- per-channel quantization has ``axis`` set only when there is more than one scale.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from edgekit.core.errors import EdgekitError, InputFileError, UnsupportedModelError
from edgekit.tflite.flatbuffer_check import FlatbufferError, check_tflite_flatbuffer
from edgekit.tflite.ir import Graph, Operator, Quant, Tensor
from edgekit.tflite.options import enum_names, options_dict

_IDENTIFIER = b"TFL3"
_MIN_BYTES = 16  # root offset + identifier + the smallest possible root table and vtable
# No tensor any edge target can hold comes near this; it keeps later int64 arithmetic exact.
_MAX_ELEMENTS = 1 << 40
_HINT = "give a .tflite file written by the TFLite converter (the file may be truncated or damaged)"

# TensorType name -> little-endian numpy dtype of its constant data; types missing here have no
# numpy equivalent (string, resource, bfloat16, float8 ...) and cannot be constants in the IR.
_NUMPY = {"float32": "<f4", "float16": "<f2", "float64": "<f8", "int32": "<i4", "uint8": "u1",
          "int64": "<i8", "bool": "?", "int16": "<i2", "int8": "i1", "uint64": "<u8",
          "uint32": "<u4", "uint16": "<u2", "complex64": "<c8", "complex128": "<c16"}



def read_tflite(path: str | Path) -> Graph:
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{p}: no such file", "check the model path") from None
    except OSError as e:
        raise InputFileError(f"{p}: cannot read ({e.strerror or e})",
                             "check the path and permissions") from None
    return _read(data, p.stem, str(p))


def read_tflite_bytes(data: bytes, name: str) -> Graph:
    return _read(bytes(data), name, name)


def dynamic_dims(graph: Graph) -> dict[int, tuple[int, ...]]:
    """Tensors of ``graph`` whose shape_signature has a -1 (dynamic) dimension: index -> signature.

    Empty for a fully static model.
    """
    return {t.index: t.shape_signature for t in graph.tensors if t.is_dynamic}


def _read(data: bytes, name: str, label: str) -> Graph:
    def invalid(reason: str) -> InputFileError:
        return InputFileError(f"{label}: not a valid TFLite model ({reason})", _HINT)

    if len(data) < _MIN_BYTES:
        raise invalid(f"only {len(data)} bytes")
    if data[4:8] != _IDENTIFIER:
        raise invalid(f"file identifier is {data[4:8]!r}, expected {_IDENTIFIER!r}")
    try:
        check_tflite_flatbuffer(data)
    except FlatbufferError as e:
        raise invalid(str(e)) from None

    from ai_edge_litert import schema_py_generated as schema  # heavy: import only when reading

    sha256 = hashlib.sha256(data).hexdigest()
    try:
        model = schema.ModelT.InitFromPackedBuf(data, 0)
        graph = _Builder(schema, model, data, label).graph(name, sha256)
    except EdgekitError:
        raise
    except Exception as e:  # noqa: BLE001 - the unpacker fails in many ways on damaged bytes
        raise invalid(f"{type(e).__name__}: {e}") from None
    return graph


class _Builder:
    """Object-API model -> IR, validating every index and size on the way."""

    def __init__(self, schema: Any, model: Any, data: bytes, label: str) -> None:
        self.schema = schema
        self.model = model
        self.data = data
        self.label = label
        self.buffers = model.buffers or []

    def invalid(self, reason: str) -> InputFileError:
        return InputFileError(f"{self.label}: not a valid TFLite model ({reason})", _HINT)

    def unsupported(self, reason: str, hint: str) -> UnsupportedModelError:
        return UnsupportedModelError(f"{self.label}: {reason}", hint)

    def graph(self, name: str, sha256: str) -> Graph:
        subgraphs = self.model.subgraphs or []
        if not subgraphs:
            raise self.invalid("no subgraph")
        if len(subgraphs) > 1:
            raise self.unsupported(
                f"model has {len(subgraphs)} subgraphs (control flow such as WHILE/IF/CALL_ONCE); "
                "edgekit supports single-subgraph models",
                "export the model without control flow (unroll loops, remove conditionals)")
        sg = subgraphs[0]
        if sg is None:
            raise self.invalid("subgraph 0 is empty")
        for i, buf in enumerate(self.buffers):  # also those no tensor uses (metadata ...)
            if buf is not None and int(buf.offset) > 1:
                self.out_of_line(int(buf.offset), int(buf.size), f"buffer {i}")
        tensors = tuple(self.tensor(i, t) for i, t in enumerate(sg.tensors or []))
        n = len(tensors)
        opcodes = [self.opcode(i, c) for i, c in enumerate(self.model.operatorCodes or [])]
        operators = tuple(self.operator(i, op, opcodes, n) for i, op in enumerate(sg.operators or []))
        inputs = self.indices(sg.inputs, n, "subgraph inputs")
        outputs = self.indices(sg.outputs, n, "subgraph outputs")
        description = self.model.description.decode("utf-8") if self.model.description else ""
        return Graph(name=name, tensors=tensors, operators=operators, inputs=inputs, outputs=outputs,
                     sha256=sha256, description=description)

    def indices(self, values: Any, n: int, what: str, optional: bool = False) -> tuple[int, ...]:
        out = tuple(int(v) for v in (values if values is not None else ()))
        low = -1 if optional else 0
        bad = [v for v in out if not low <= v < n]
        if bad:
            raise self.invalid(f"{what} name tensor {bad[0]}, but the subgraph has {n} tensors")
        return out

    def opcode(self, i: int, code: Any) -> tuple[str, int]:
        if code is None:
            raise self.invalid(f"operator code {i} is empty")
        value = max(int(code.deprecatedBuiltinCode), int(code.builtinCode))
        names = enum_names(self.schema.BuiltinOperator)
        if value not in names:
            if value < 0:
                raise self.invalid(f"operator code {i} has builtin code {value}")
            raise self.unsupported(f"operator code {i} is builtin operator {value}, unknown to this "
                                   "TFLite schema", "convert the model with an older TFLite version")
        name = names[value]
        if name == "CUSTOM":
            if not code.customCode:
                raise self.invalid(f"custom operator code {i} has no name")
            name = "CUSTOM:" + code.customCode.decode("utf-8")
        return name, int(code.version)

    def operator(self, i: int, op: Any, opcodes: list[tuple[str, int]], n: int) -> Operator:
        if op is None:
            raise self.invalid(f"operator {i} is empty")
        if not 0 <= op.opcodeIndex < len(opcodes):
            raise self.invalid(f"operator {i} uses opcode {op.opcodeIndex} of {len(opcodes)}")
        opcode, version = opcodes[op.opcodeIndex]
        where = f"operator {i} ({opcode})"
        options = options_dict(self.schema, op.builtinOptions, where)
        options.update(options_dict(self.schema, op.builtinOptions2, where))
        custom = self.custom_options(op, where)
        if custom is not None:
            options["custom_options"] = custom
        intermediates = self.indices(op.intermediates, n, f"{where} intermediates")
        if intermediates:
            options["intermediates"] = intermediates
        return Operator(index=i, opcode=opcode, version=version,
                        inputs=self.indices(op.inputs, n, f"{where} inputs", optional=True),
                        outputs=self.indices(op.outputs, n, f"{where} outputs"), options=options)

    def custom_options(self, op: Any, where: str) -> bytes | None:
        if op.customOptions is not None and len(op.customOptions):
            return bytes(np.asarray(op.customOptions, dtype=np.uint8))
        # Models over 2 GB keep large custom options after the flatbuffer, like buffers.
        offset, size = int(op.largeCustomOptionsOffset), int(op.largeCustomOptionsSize)
        if offset > 1 and size > 0:
            return self.out_of_line(offset, size, f"{where} custom options")
        return None

    def out_of_line(self, offset: int, size: int, what: str) -> bytes:
        if offset + size > len(self.data):
            raise self.invalid(f"{what} at bytes {offset}..{offset + size} lie past the end of the "
                               f"{len(self.data)}-byte file")
        return self.data[offset:offset + size]

    def tensor(self, i: int, t: Any) -> Tensor:
        if t is None:
            raise self.invalid(f"tensor {i} is empty")
        name = t.name.decode("utf-8") if t.name else ""
        where = f"tensor {i} ({name!r})"
        dtype = enum_names(self.schema.TensorType).get(int(t.type))
        if dtype is None:
            raise self.invalid(f"{where} has unknown type {t.type}")
        dtype = dtype.lower()
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else ()))
        if any(d < 0 for d in shape):
            raise self.invalid(f"{where} has shape {list(shape)}")
        if int(np.prod(shape, dtype=object)) > _MAX_ELEMENTS:
            raise self.invalid(f"{where} has an implausible shape {list(shape)}")
        raw = self.buffer_bytes(t, where)
        data = None if raw is None else self.constant(raw, shape, dtype, t, where)
        sig = t.shapeSignature
        signature = tuple(int(d) for d in sig) if sig is not None and len(sig) else None
        return Tensor(index=i, name=name, shape=shape, dtype=dtype, data=data,
                      quant=self.quant(t.quantization, shape, where), is_variable=bool(t.isVariable),
                      shape_signature=signature)

    def buffer_bytes(self, t: Any, where: str) -> bytes | None:
        if t.externalBuffer:
            raise self.unsupported(f"{where} keeps its data in an external buffer file",
                                   "convert the model to a single self-contained .tflite file")
        if not 0 <= t.buffer < len(self.buffers):
            raise self.invalid(f"{where} uses buffer {t.buffer} of {len(self.buffers)}")
        buf = self.buffers[t.buffer]
        if buf is None:
            raise self.invalid(f"buffer {t.buffer} is empty")
        if buf.data is not None and len(buf.data):
            return bytes(np.asarray(buf.data, dtype=np.uint8))
        # Models over 2 GB store buffer data after the flatbuffer at an absolute file offset;
        # offset 0 and 1 are the "no data" sentinels of the schema.
        if int(buf.offset) > 1 and int(buf.size) > 0:
            return self.out_of_line(int(buf.offset), int(buf.size), f"{where} buffer {t.buffer}")
        return None

    def constant(self, raw: bytes, shape: tuple[int, ...], dtype: str, t: Any, where: str) -> np.ndarray:
        if t.sparsity is not None:
            raise self.unsupported(f"{where} is a sparse constant",
                                   "convert the model without sparsity (dense weights)")
        count = int(np.prod(shape, dtype=object)) if shape else 1
        if dtype == "int4":  # two's-complement nibbles, low nibble first
            if len(raw) != (count + 1) // 2:
                raise self.invalid(f"{where}: buffer holds {len(raw)} bytes, int4 {list(shape)} "
                                   f"needs {(count + 1) // 2}")
            packed = np.frombuffer(raw, dtype=np.uint8)
            nibbles = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(-1)[:count].astype(np.int8)
            return np.where(nibbles > 7, nibbles - 16, nibbles).astype(np.int8).reshape(shape)
        if dtype not in _NUMPY:
            raise self.unsupported(f"{where} is a constant of type {dtype}",
                                   "keep constants numeric (int8/int16/int32/float32 ...)")
        np_dtype = np.dtype(_NUMPY[dtype])
        if len(raw) != count * np_dtype.itemsize:
            raise self.invalid(f"{where}: buffer holds {len(raw)} bytes, {dtype} {list(shape)} "
                               f"needs {count * np_dtype.itemsize}")
        return np.frombuffer(raw, dtype=np_dtype).astype(np_dtype.newbyteorder("="), copy=True).reshape(shape)

    def quant(self, q: Any, shape: tuple[int, ...], where: str) -> Quant | None:
        if q is None or q.scale is None or len(q.scale) == 0:
            return None
        if q.details is not None or q.detailsType:
            raise self.unsupported(f"{where} uses custom or blockwise quantization",
                                   "quantize with per-tensor or per-channel int8 scales")
        scale = np.array(q.scale, dtype=np.float32)
        zero_point = np.array(q.zeroPoint if q.zeroPoint is not None else [], dtype=np.int64)
        if zero_point.shape != scale.shape:
            raise self.invalid(f"{where} has {scale.size} scales but {zero_point.size} zero points")
        if scale.size == 1:
            return Quant(scale=scale, zero_point=zero_point, axis=None)
        axis = int(q.quantizedDimension)
        if not 0 <= axis < len(shape) and len(shape) == 1:
            # Some TFLM models (person_detect) mark 1-D per-channel biases with the weight's
            # axis 3; a 1-D tensor can only be quantized along axis 0.
            axis = 0
        if not 0 <= axis < len(shape) or shape[axis] != scale.size:
            raise self.invalid(f"{where} has {scale.size} scales on axis {q.quantizedDimension} "
                               f"of shape {list(shape)}")
        return Quant(scale=scale, zero_point=zero_point, axis=axis)
