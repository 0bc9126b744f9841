"""Bounds check of a TFLite flatbuffer before the object API unpacks it.

The Python flatbuffers package has no verifier: on a damaged file it reads wherever the offsets
point (negative offsets silently wrap to the end of the buffer) and a crafted file whose offsets
share sub-tables can make the unpacker visit millions of tables. This walk visits every table the
object API (``ModelT.InitFromPackedBuf``) will unpack and checks, as the C++ verifier does, that
each table, vtable, vector and string lies inside the buffer, with a budget on tables visited so
the later unpack is linear in the file size. Field layout follows tflite's schema.fbs (vtable
slot = field id). It raises ``FlatbufferError`` with a short reason; the reader turns that into
an ``InputFileError``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")


class FlatbufferError(Exception):
    """The buffer is not a well-formed flatbuffer of the TFLite schema."""


@dataclass(frozen=True)
class _Table:
    name: str
    scalars: dict[int, int] = field(default_factory=dict)            # slot -> byte size
    strings: tuple[int, ...] = ()
    vectors: dict[int, int] = field(default_factory=dict)            # slot -> element size
    tables: dict[int, str] = field(default_factory=dict)             # slot -> table name
    table_vectors: dict[int, str] = field(default_factory=dict)      # slot -> element table name
    unions: dict[int, tuple[int, dict[int, str]]] = field(default_factory=dict)
    # union value slot -> (type slot, {type value: table name}); types not listed get a header check


_GENERIC = _Table("options")
_ANY_OPTIONS: dict[int, str] = {}  # every BuiltinOptions member: header check only

_SCHEMA: dict[str, _Table] = {t.name: t for t in (
    _Table("Model", scalars={0: 4}, strings=(3,), vectors={5: 4},
           table_vectors={1: "OperatorCode", 2: "SubGraph", 4: "Buffer", 6: "Metadata",
                          7: "SignatureDef", 8: "ExternalBufferGroup", 9: "ExternalBuffer"}),
    _Table("OperatorCode", scalars={0: 1, 2: 4, 3: 4}, strings=(1,)),
    _Table("SubGraph", scalars={5: 4}, strings=(4,), vectors={1: 4, 2: 4},
           table_vectors={0: "Tensor", 3: "Operator"}),
    _Table("Tensor", scalars={1: 1, 2: 4, 5: 1, 8: 1, 10: 4}, strings=(3,), vectors={0: 4, 7: 4},
           tables={4: "QuantizationParameters", 6: "SparsityParameters"},
           table_vectors={9: "VariantSubType"}),
    _Table("QuantizationParameters", scalars={4: 1, 6: 4}, vectors={0: 4, 1: 4, 2: 4, 3: 8},
           unions={5: (4, {1: "CustomQuantization", 2: "BlockwiseQuantization",
                           3: "BlockwiseQuantization"})}),
    _Table("CustomQuantization", vectors={0: 1}),
    # Blockwise and MultiAxis quantization share one layout: three int32 then an int32 vector.
    _Table("BlockwiseQuantization", scalars={0: 4, 1: 4, 2: 4}, vectors={3: 4}),
    _Table("SparsityParameters", vectors={0: 4, 1: 4}, table_vectors={2: "DimensionMetadata"}),
    _Table("DimensionMetadata", scalars={0: 1, 1: 4, 2: 1, 4: 1},
           unions={3: (2, {1: "Int32Vector", 2: "Uint16Vector", 3: "Uint8Vector"}),
                   5: (4, {1: "Int32Vector", 2: "Uint16Vector", 3: "Uint8Vector"})}),
    _Table("Int32Vector", vectors={0: 4}),
    _Table("Uint16Vector", vectors={0: 2}),
    _Table("Uint8Vector", vectors={0: 1}),
    _Table("VariantSubType", scalars={1: 1, 2: 1}, vectors={0: 4}),
    _Table("Operator", scalars={0: 4, 3: 1, 6: 1, 9: 8, 10: 8, 11: 1, 13: 4},
           vectors={1: 4, 2: 4, 5: 1, 7: 1, 8: 4},
           unions={4: (3, _ANY_OPTIONS), 12: (11, _ANY_OPTIONS)}),
    _Table("Buffer", scalars={1: 8, 2: 8}, vectors={0: 1}),
    _Table("Metadata", scalars={1: 4}, strings=(0,)),
    _Table("SignatureDef", scalars={4: 4}, strings=(2,), table_vectors={0: "TensorMap", 1: "TensorMap"}),
    _Table("TensorMap", scalars={1: 4}, strings=(0,)),
    _Table("ExternalBufferGroup", strings=(0,)),
    _Table("ExternalBuffer", scalars={0: 4, 1: 4, 2: 8, 3: 8}, strings=(4,)),
)}


class _Walker:
    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.size = len(buf)
        # A table costs at least 8 bytes (its soffset plus the offset that points at it), so a
        # file whose tables are not shared can never exceed this; shared (DAG) tables can.
        self.tables_left = self.size // 8 + 64

    def _read(self, fmt: struct.Struct, pos: int, what: str) -> int:
        if pos < 0 or pos + fmt.size > self.size:
            raise FlatbufferError(f"{what} at byte {pos} lies outside the {self.size}-byte file")
        return fmt.unpack_from(self.buf, pos)[0]

    def _target(self, pos: int, what: str) -> int:
        """Follow the uoffset stored at pos."""
        return pos + self._read(_U32, pos, what)

    def _vector(self, pos: int, elem_size: int, what: str) -> tuple[int, int]:
        start = self._target(pos, f"{what} offset")
        length = self._read(_U32, start, f"{what} length")
        end = start + 4 + length * elem_size
        if end > self.size:
            raise FlatbufferError(f"{what} of {length} elements runs past the end of the file")
        return start + 4, length

    def table(self, pos: int, name: str, depth: int = 0) -> None:
        self.tables_left -= 1
        if self.tables_left < 0:
            raise FlatbufferError("too many tables for the file size (shared or looping offsets)")
        if depth > 16:  # the schema nests at most 5 deep
            raise FlatbufferError("tables nested too deep")
        vtable = pos - self._read(_I32, pos, f"{name} table")
        vt_size = self._read(_U16, vtable, f"{name} vtable")
        table_size = self._read(_U16, vtable + 2, f"{name} vtable")
        if vt_size < 4 or vt_size % 2 or vtable + vt_size > self.size:
            raise FlatbufferError(f"{name} vtable at byte {vtable} is malformed")
        if table_size < 4 or pos + table_size > self.size:
            raise FlatbufferError(f"{name} table at byte {pos} runs past the end of the file")
        spec = _SCHEMA.get(name, _GENERIC)

        def field_pos(slot: int, width: int) -> int | None:
            entry = 4 + 2 * slot
            if entry >= vt_size:
                return None
            off = _U16.unpack_from(self.buf, vtable + entry)[0]
            if off == 0:
                return None
            if off + width > table_size:
                raise FlatbufferError(f"{name} field {slot} lies outside its table")
            return pos + off

        for slot, width in spec.scalars.items():
            field_pos(slot, width)
        for slot in spec.strings:
            p = field_pos(slot, 4)
            if p is not None:
                self._vector(p, 1, f"{name} string")
        for slot, width in spec.vectors.items():
            p = field_pos(slot, 4)
            if p is not None:
                self._vector(p, width, f"{name} vector")
        for slot, child in spec.tables.items():
            p = field_pos(slot, 4)
            if p is not None:
                self.table(self._target(p, f"{child} offset"), child, depth + 1)
        for slot, child in spec.table_vectors.items():
            p = field_pos(slot, 4)
            if p is None:
                continue
            start, length = self._vector(p, 4, f"{name} {child} vector")
            for i in range(length):
                elem = start + 4 * i
                self.table(self._target(elem, f"{child} offset"), child, depth + 1)
        for slot, (type_slot, members) in spec.unions.items():
            tp = field_pos(type_slot, 1)
            p = field_pos(slot, 4)
            if tp is None or p is None:
                continue
            member = self.buf[tp]
            if member != 0:
                self.table(self._target(p, "union offset"), members.get(member, "options"), depth + 1)


def check_tflite_flatbuffer(buf: bytes) -> None:
    """Raise FlatbufferError unless every part of the TFLite model in buf lies inside buf."""
    walker = _Walker(buf)
    walker.table(walker._target(0, "root offset"), "Model")
