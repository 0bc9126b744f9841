"""A .tflite input is validated and passed through unchanged.

Validation: the flatbuffer reads into the IR (structure and buffer sizes checked), LiteRT's
reference kernels can allocate and run it once on zeros, and it is either entirely float32 or
full-integer. A float model cannot be re-quantized here (the TensorFlow graph it came from is
gone), so the user is pointed at the source model for an int8 version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.core.errors import InputFileError, UnsupportedModelError


@dataclass(frozen=True)
class CheckedTFLite:
    data: bytes
    kind: str            # "float32" or "int8"


def check_tflite(path: Path) -> CheckedTFLite:
    from edgekit.convert.quantize import non_integer_ops
    from edgekit.tflite.reader import read_tflite

    graph = read_tflite(path)
    data = path.read_bytes()
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        interp = Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        interp.allocate_tensors()
        for d in interp.get_input_details():
            interp.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
        interp.invoke()
    except Exception as e:  # noqa: BLE001 - LiteRT reports bad models as RuntimeError/ValueError
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise InputFileError(f"{path}: LiteRT cannot run this model ({first})",
                             "convert the source model again; the file may be damaged or use custom ops") from None
    io_types = {graph.tensor(i).dtype for i in (*graph.inputs, *graph.outputs)}
    quantized = any(t.quant is not None for t in graph.tensors)
    if io_types == {"float32"} and not quantized:
        return CheckedTFLite(data, "float32")
    if io_types == {"int8"} and not non_integer_ops(data):
        return CheckedTFLite(data, "int8")
    raise UnsupportedModelError(
        f"{path}: neither float32 nor full-integer int8 (inputs/outputs {', '.join(sorted(io_types))}"
        f"{', partly quantized' if quantized else ''})",
        "convert the source network (PyTorch, ONNX, Keras) with `edgekit convert` to get both versions")
