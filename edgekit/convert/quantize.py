"""SavedModel -> float32 .tflite and full-integer int8 .tflite (TFLiteConverter).

edgekit runs the TFLite converter itself rather than taking onnx2tf's int8 output: one path
serves every frontend (Keras never passes through onnx2tf), the representative dataset is the
user's data already in TFLite layout (onnx2tf would normalise it with ImageNet mean/std unless
told otherwise), and onnx2tf would also write float16 and dynamic-range files nobody asked for.

Full integer means int8 input and output, int8 activations and per-channel int8 weights; LSTM
internals may be int16 and biases int32. TFLITE_BUILTINS_INT8 alone does not guarantee this: an
op without an int8 kernel (CUMSUM, ...) is silently left in float between DEQUANTIZE and
QUANTIZE, so the result is checked and such ops are named in a ConversionError.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.core.errors import ConversionError

_INTEGER_ACTIVATIONS = frozenset({"int8", "int16", "int32", "int64", "bool"})


def _converter(saved_model_dir: Path):
    import tensorflow as tf

    return tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))


def _converter_error(e: Exception, stage: str) -> ConversionError:
    text = str(e)
    ops = sorted(set(re.findall(r"'(?:tf|tfl)\.(\w+)' op", text)))
    if ops:
        return ConversionError(f"{stage}: TFLite has no builtin kernel for op(s) {', '.join(ops)}",
                               "replace these ops in the source model with common ones (conv, dense, add, relu ...)")
    first = (text.strip().splitlines() or [type(e).__name__])[0][:200]
    return ConversionError(f"{stage} failed: {type(e).__name__}: {first}", "rerun with --debug for the converter log")


def to_float_tflite(saved_model_dir: Path) -> bytes:
    import tensorflow as tf

    conv = _converter(saved_model_dir)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex ops: MCUs have none
    try:
        return bytes(conv.convert())
    except Exception as e:  # noqa: BLE001 - ConverterError and friends
        raise _converter_error(e, "float32 TFLite conversion") from e


@dataclass(frozen=True)
class Int8Model:
    data: bytes
    quantizer: str        # "mlir" (TFLite's default) or "legacy" (the fallback, see below)


def _int8_convert(saved_model_dir: Path, calibration: Sequence[np.ndarray], new_quantizer: bool) -> bytes:
    import tensorflow as tf

    n = len(calibration[0])

    def representative() -> Iterator[list[np.ndarray]]:
        for i in range(n):
            yield [np.ascontiguousarray(a[i:i + 1], dtype=np.float32) for a in calibration]

    conv = _converter(saved_model_dir)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    conv.experimental_new_quantizer = new_quantizer
    try:
        return bytes(conv.convert())
    except Exception as e:  # noqa: BLE001
        raise _converter_error(e, "int8 TFLite conversion") from e


def to_int8_tflite(saved_model_dir: Path, calibration: Sequence[np.ndarray]) -> Int8Model:
    """``calibration``: one float32 array (N, *tflite input shape[1:]) per input, same N.

    The MLIR quantizer leaves an op in float when one of its outputs is dead (an unrolled LSTM's
    first step multiplies the forget gate by a zero state, which is folded away, so that SPLIT
    output has no statistics). The legacy quantizer gives SPLIT its input's scale and copes; it
    is tried only when the default leaves float ops behind.
    """
    data = _int8_convert(saved_model_dir, calibration, new_quantizer=True)
    float_ops = non_integer_ops(data)
    if not float_ops:
        return Int8Model(check_kernel_limits(data), "mlir")
    with contextlib.suppress(ConversionError):
        legacy = _int8_convert(saved_model_dir, calibration, new_quantizer=False)
        if not non_integer_ops(legacy):
            return Int8Model(check_kernel_limits(legacy), "legacy")
    listed = ", ".join(f"{op} x{k}" if k > 1 else op for op, k in sorted(float_ops.items()))
    raise ConversionError(f"the model cannot be fully int8: no int8 kernel for {listed}",
                          "replace these ops in the source model (or move them out of the network)")


# TFLite's (and TFLM's) int8 SOFTMAX turns input_scale * beta * 2^26 into a fixed-point
# multiplier that must exceed 1 and aborts the process otherwise (PreprocessSoftmaxScaling).
_SOFTMAX_MIN_SCALE_X_BETA = 2.0 ** -26


def check_kernel_limits(tflite: bytes) -> bytes:
    """Refuse int8 models that TFLite kernels would abort on, instead of crashing later.

    A softmax whose input scale is below ~1.5e-8 means the layer before it gave a (nearly)
    constant output on every calibration sample: a dead network or unrepresentative data.
    """
    from edgekit.tflite.reader import read_tflite_bytes

    graph = read_tflite_bytes(tflite, "int8-check")
    for op in graph.operators:
        if op.opcode != "SOFTMAX":
            continue
        t = graph.tensor(op.inputs[0])
        scale = float(t.quant.scale[0]) if t.quant is not None else 1.0
        if scale * float(op.options.get("beta", 1.0)) <= _SOFTMAX_MIN_SCALE_X_BETA:
            raise ConversionError(
                f"the int8 SOFTMAX (op {op.index}) gets an input scale of {scale:.3g}: the layer before it was "
                "constant on every calibration sample, and TFLite's int8 softmax cannot run on that scale",
                "calibrate with real input data (--calib), and check that the network is trained")
    return tflite


def non_integer_ops(tflite: bytes) -> Counter:
    """Opcodes (with counts) that read or write a float activation, QUANTIZE/DEQUANTIZE excluded."""
    from edgekit.tflite.reader import read_tflite_bytes

    graph = read_tflite_bytes(tflite, "int8-check")
    bad: Counter = Counter()
    float_boundary = False
    for op in graph.operators:
        tensors = [graph.tensor(i) for i in (*op.inputs, *op.outputs) if i >= 0]
        activations = [t for t in tensors if not t.is_constant]
        if op.opcode in ("QUANTIZE", "DEQUANTIZE"):
            float_boundary |= any(t.dtype not in _INTEGER_ACTIVATIONS for t in activations)
            continue
        if any(t.dtype not in _INTEGER_ACTIVATIONS for t in activations):
            bad[op.opcode] += 1
    if float_boundary and not bad:
        bad["QUANTIZE/DEQUANTIZE (float input or output)"] += 1
    return bad
