"""Turn a flatbuffer object-API options object into a plain dict: snake_case keys, enums as names.

Works for every ``*OptionsT`` class of the schema (builtin options and the StableHLO options2):
it walks the object's attributes, so a new options table needs no code here; only enum-valued
fields need an entry in ``_ENUM_FIELDS`` (the generated Python keeps no enum type information).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from edgekit.core.errors import InputFileError

# camelCase attribute -> (enum class name in schema_py_generated, or "TensorType")
_ENUM_FIELDS = {
    "padding": "Padding",
    "fusedActivationFunction": "ActivationFunctionType",
    "kernelType": "LSTMKernelType",
    "type": "LSHProjectionType",
    "combiner": "CombinerType",
    "mode": "MirrorPadMode",
    "weightsFormat": "FullyConnectedOptionsWeightsFormat",
    "reduceFunction": "ReduceWindowFunction",
    "algorithm": "RngAlgorithm",
    "comparisonDirection": "StablehloComparisonDirection",
    "compareType": "StablehloComparisonType",
    "precisionConfig": "StablehloPrecisionConfig",
    "compositeAttributesFormat": "CustomOptionsFormat",
    "inDataType": "TensorType",
    "outDataType": "TensorType",
    "outType": "TensorType",
    "outputType": "TensorType",
    "idxOutType": "TensorType",
    "quantizedBiasType": "TensorType",
    "keyDtype": "TensorType",
    "valueDtype": "TensorType",
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


def enum_names(enum_cls: type) -> dict[int, str]:
    """value -> NAME of a generated flatbuffer enum class."""
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


def _enum_name(schema: Any, enum: str, value: int, where: str) -> str:
    names = enum_names(getattr(schema, enum))
    if value not in names:
        raise InputFileError(f"{where}: {value} is not a known {enum} value",
                             "the file is damaged or was written by a newer TFLite schema")
    # Tensor types read like tensor dtypes everywhere else in the IR ("int8", "float32").
    return names[value].lower() if enum == "TensorType" else names[value]


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return tuple(value.tolist())
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "__dict__"):  # a nested *T table
        return {snake_case(k): _plain(v) for k, v in vars(value).items()}
    return value


def options_dict(schema: Any, obj: Any, where: str) -> dict[str, Any]:
    """Options object (or None) -> dict. ``where`` names the operator in error messages."""
    if obj is None:
        return {}
    out: dict[str, Any] = {}
    for attr, value in vars(obj).items():
        enum = _ENUM_FIELDS.get(attr)
        if enum is not None and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = _enum_name(schema, enum, int(value), f"{where} option {snake_case(attr)}")
        elif attr == "precisionConfig" and value is not None:  # the one enum-valued vector
            value = tuple(_enum_name(schema, enum, int(v), f"{where} option {snake_case(attr)}")
                          for v in value)
        else:
            value = _plain(value)
        out[snake_case(attr)] = value
    return out
