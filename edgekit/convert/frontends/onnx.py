"""ONNX -> static-shape TensorFlow SavedModel, through onnx2tf (Python API, in-process).

onnx2tf turns channel-first inputs into channel-last ones (NCHW -> NHWC); edgekit records that
permutation per input so calibration data can stay in the model's own layout. Rank-3 inputs are
only turned when a convolution-like op reads them: for a sequence (N, T, F) feeding an LSTM or
a MatMul, "NCW -> NWC" would just swap time and features.

onnx2tf fetches a sample-image file from the internet for any 4-D, 3-channel input, even when
it is not needed, unless a file of that name is in the current directory. It therefore runs
with its working directory set to a private temporary directory that holds a generated file of
that name; nothing is downloaded and nothing it writes lands in the user's directory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from pathlib import Path

import numpy as np

from edgekit.convert.capture import CapturedLog
from edgekit.convert.frontends.onnx_fold import fold_constants, static_shapes
from edgekit.convert.frontends.onnx_strides import equalize_depthwise_strides
from edgekit.convert.shapes import resolve_shape
from edgekit.convert.tfmodel import InputSpec, TFModel, channels_last_perm
from edgekit.core.errors import ConversionError, InputFileError, UsageError

ONNX2TF_SAMPLE_FILE = "calibration_image_sample_data_20x128x128x3_float32.npy"
_SAMPLE_SHAPE = (20, 128, 128, 3)
OPSET = 17   # what edgekit asks torch.onnx.export for; onnx2tf 1.28 covers it
# A rank-3 input read (possibly through element-wise ops) by one of these is channel-first data.
_CHANNEL_FIRST_CONSUMERS = frozenset({
    "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool",
    "BatchNormalization", "InstanceNormalization",
})
_ELEMENTWISE = frozenset({
    "Add", "Sub", "Mul", "Div", "Relu", "Clip", "Cast", "Identity", "Neg", "Abs", "Sigmoid", "Tanh",
})


def load_onnx(path: Path):
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path))
    except (DecodeError, ValueError, RuntimeError) as e:
        raise InputFileError(f"{path}: not a valid ONNX model ({type(e).__name__}: {e}); the file may be truncated",
                             "export the model again (torch.onnx.export / tf2onnx) and pass the complete .onnx file") from None
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file (or its external weight data is missing)",
                             "keep the .onnx file next to its .data file, or export with external_data=False") from None
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        first = str(e).strip().splitlines()[0]
        raise InputFileError(f"{path}: invalid ONNX model ({first})",
                             "export the model again; onnx.checker.check_model must accept it") from None
    return model


def _graph_inputs(model) -> list:
    initializers = {i.name for i in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def _dims(value_info) -> list[int | None]:
    dims = value_info.type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in dims]


def _reads_channel_first(model, name: str) -> bool:
    frontier, seen = [name], set()
    while frontier:
        tensor = frontier.pop()
        for node in model.graph.node:
            if tensor in node.input and id(node) not in seen:
                seen.add(id(node))
                if node.op_type in _CHANNEL_FIRST_CONSUMERS:
                    return True
                if node.op_type in _ELEMENTWISE:
                    frontier.extend(node.output)
    return False


def _check_ops_known(model) -> None:
    unknown = sorted({n.op_type for n in model.graph.node
                      if importlib.util.find_spec(f"onnx2tf.ops.{n.op_type}") is None})
    if unknown:
        raise ConversionError(f"ONNX op(s) {', '.join(unknown)} cannot be converted to TFLite (no onnx2tf lowering)",
                              "replace them in the source model with common ops (Conv, MatMul, Add, Relu ...)")


def _tf_name(name: str, index: int) -> str:
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return clean if clean[:1].isalpha() else f"input_{index}_{clean}".rstrip("_")


def _failed_node(log_text: str, model) -> str:
    names = re.findall(r"onnx_op_name: (\S+)", re.sub(r"\x1b\[[0-9;]*m", "", log_text))
    if not names:
        return ""
    op_types = {n.name: n.op_type for n in model.graph.node}
    return f" at node {names[-1]} ({op_types.get(names[-1], '?')})"


def onnx_to_saved_model(path: Path, input_shapes: tuple[tuple[int, ...], ...], workdir: Path,
                        log: CapturedLog, verbose: bool, source_format: str = "onnx") -> TFModel:
    import onnx

    model = load_onnx(path)
    inputs = _graph_inputs(model)
    if input_shapes and len(input_shapes) != len(inputs):
        raise UsageError(f"{len(input_shapes)} --input-shape given, the model has {len(inputs)} input(s) "
                         f"({', '.join(i.name for i in inputs)})", "give one --input-shape per input, in order")
    specs = []
    for k, vi in enumerate(inputs):
        if vi.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            raise ConversionError(f"input '{vi.name}' is not float32", "export the model with float32 inputs")
        shape = resolve_shape(vi.name, _dims(vi), input_shapes[k] if input_shapes else None)
        dims = vi.type.tensor_type.shape.dim
        del dims[:]
        for d in shape:
            dims.add().dim_value = d
        specs.append(shape)
    _check_ops_known(model)
    try:
        model = fold_constants(model)
    except Exception as e:  # noqa: BLE001 - a model the reference evaluator rejects is a conversion failure
        raise ConversionError(f"cannot evaluate the shape arithmetic of {path.name} ({type(e).__name__}: {e})",
                              "export the model with static shapes and constant folding on") from e

    equalize_depthwise_strides(model, static_shapes(model))
    keep, specs_out = [], []
    for vi, shape in zip(inputs, specs):
        rank = len(shape)
        turned = rank >= 4 or (rank == 3 and _reads_channel_first(model, vi.name))
        if not turned:
            keep.append(vi.name)
        specs_out.append(InputSpec(vi.name, shape, channels_last_perm(rank) if turned else None))
    folded = workdir / "model_static.onnx"
    onnx.save(model, str(folded))
    keras_model = _run_onnx2tf(folded, keep, workdir, log, verbose, model)
    return TFModel(_save(keras_model, specs_out, workdir), tuple(specs_out), source_format)


def _run_onnx2tf(folded: Path, keep: list[str], workdir: Path, log: CapturedLog, verbose: bool, model):
    import onnx2tf
    import tf_keras

    # Layer names carry a per-process counter (model, model_1, ...) into the TFLite tensor names,
    # and the int8 quantizer's result was seen to depend on them; a fresh session makes the same
    # input give the same bytes every time.
    tf_keras.backend.clear_session()

    sample = np.random.default_rng(0).random(_SAMPLE_SHAPE, dtype=np.float32)
    np.save(workdir / ONNX2TF_SAMPLE_FILE, sample)
    try:
        with contextlib.chdir(workdir):
            return onnx2tf.convert(
                input_onnx_file_path=str(folded),
                output_folder_path=str(workdir / "onnx2tf"),
                not_use_onnxsim=True,          # onnxsim: a subprocess, 5x slower; edgekit folds itself
                disable_model_save=True,       # edgekit writes its own SavedModel and TFLite files
                enable_rnn_unroll=True,        # a TFLite WHILE loop cannot be quantized to int8
                keep_shape_absolutely_input_names=keep or None,
                non_verbose=not verbose,
            )
    except SystemExit as e:  # onnx2tf calls sys.exit(1) on some errors
        raise ConversionError(f"onnx2tf could not convert the model{_failed_node(log.text(), model)} (exit {e.code})",
                              "rerun with --debug to see onnx2tf's log; replace the named op") from None
    except Exception as e:  # noqa: BLE001 - onnx2tf fails with arbitrary exception types
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ConversionError(f"onnx2tf could not convert the model{_failed_node(log.text(), model)}: {first}",
                              "rerun with --debug to see onnx2tf's log; replace the named op") from e


def _save(keras_model, specs: list[InputSpec], workdir: Path) -> Path:
    import tensorflow as tf

    if len(keras_model.inputs) != len(specs):
        raise ConversionError(f"onnx2tf produced {len(keras_model.inputs)} inputs for {len(specs)} ONNX inputs",
                              "report this model; convert a model with a single input meanwhile")
    signature = []
    for k, (t, spec) in enumerate(zip(keras_model.inputs, specs)):
        if tuple(t.shape) != spec.tflite_shape:
            raise ConversionError(f"onnx2tf laid out input '{spec.name}' as {tuple(t.shape)}, expected {spec.tflite_shape}",
                                  "report this model; edgekit cannot map calibration data onto that layout")
        signature.append(tf.TensorSpec(t.shape, tf.float32, name=_tf_name(spec.name, k)))
    run = tf.function(lambda *xs: keras_model(list(xs) if len(xs) > 1 else xs[0]), input_signature=signature)
    out = workdir / "saved_model"
    tf.saved_model.save(keras_model, str(out), signatures=run.get_concrete_function())
    return out
