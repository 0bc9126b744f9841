"""Keras (.keras, .h5) or a TensorFlow SavedModel directory -> static-shape SavedModel.

Keras 3 models are exported with ``model.export(..., format="tf_saved_model")`` and a fixed
input signature: ``TFLiteConverter.from_keras_model`` does not handle Keras 3, and a concrete
function traced from a Keras 3 model keeps its weights as resource variables that the int8
calibrator cannot read. Inputs are already channel-last, so no layout change is recorded.

Keras 3 recurrent layers lower to a TFLite WHILE loop (several subgraphs, no int8 kernel); with
the time dimension fixed, edgekit sets ``unroll=True`` on them so they become plain ops.
Files only tf_keras (Keras 2) can read are loaded with it and traced directly; its LSTM layer
carries the annotation the converter fuses into one UNIDIRECTIONAL_SEQUENCE_LSTM op.
"""

from __future__ import annotations

from pathlib import Path

from edgekit.convert.shapes import resolve_shape
from edgekit.convert.tfmodel import InputSpec, TFModel
from edgekit.core.errors import ConversionError, InputFileError, UsageError


def _check_count(given: tuple[tuple[int, ...], ...], names: list[str]) -> None:
    if given and len(given) != len(names):
        raise UsageError(f"{len(given)} --input-shape given, the model has {len(names)} input(s) ({', '.join(names)})",
                         "give one --input-shape per input, in order")


def _load_keras(path: Path):
    """(model, "keras") for Keras 3, or (model, "tf_keras") for a file only Keras 2 can read."""
    import keras

    keras.backend.clear_session()  # same names, hence same output bytes, on every conversion
    try:
        return keras.models.load_model(str(path), compile=False), "keras"
    except Exception as e:  # noqa: BLE001 - Keras raises many types for bad or foreign files
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        error = e
    # Files written by tf_keras (Keras 2, e.g. an LSTM with time_major) fail in Keras 3.
    try:
        import tf_keras

        tf_keras.backend.clear_session()
        return tf_keras.models.load_model(str(path), compile=False), "tf_keras"
    except Exception:  # noqa: BLE001 - report Keras 3's reason, the primary reader
        pass
    hint = ("register custom layers with @keras.saving.register_keras_serializable"
            if "Unknown" in first or "custom" in first.lower()
            else "save the model again with model.save('model.keras')")
    raise InputFileError(f"{path}: cannot load the Keras model ({type(error).__name__}: {first})", hint) from None


def _unroll_recurrent_layers(model) -> None:
    import keras

    layers = model._flatten_layers(include_self=False, recursive=True) if hasattr(model, "_flatten_layers") \
        else model.layers
    for layer in layers:
        if isinstance(layer, keras.layers.RNN):
            layer.unroll = True


def keras_to_saved_model(path: Path, input_shapes: tuple[tuple[int, ...], ...], workdir: Path) -> TFModel:
    import tensorflow as tf

    model, flavor = _load_keras(path)
    names = [str(getattr(t, "name", f"input_{k}")).split(":")[0] for k, t in enumerate(model.inputs)]
    _check_count(input_shapes, names)
    specs = []
    for k, (name, t) in enumerate(zip(names, model.inputs)):
        dims = [None if d is None else int(d) for d in t.shape]
        specs.append(InputSpec(name, resolve_shape(name, dims, input_shapes[k] if input_shapes else None), None))
    signature = [tf.TensorSpec(s.model_shape, tf.float32, name=f"input_{k}") for k, s in enumerate(specs)]
    out = workdir / "saved_model"
    try:
        if flavor == "keras":
            _unroll_recurrent_layers(model)
            model.export(str(out), format="tf_saved_model",
                         input_signature=[signature] if len(signature) > 1 else signature, verbose=False)
        else:  # tf_keras: its LSTM keeps the signature TFLite fuses into UNIDIRECTIONAL_SEQUENCE_LSTM
            run = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0], training=False),
                              input_signature=signature)
            tf.saved_model.save(model, str(out), signatures=run.get_concrete_function())
    except Exception as e:  # noqa: BLE001 - tracing user layers fails in many ways
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ConversionError(f"Keras export to a SavedModel failed: {type(e).__name__}: {first}",
                              "rerun with --debug; a layer may not support static shapes or tracing") from e
    return TFModel(out, tuple(specs), "keras")


def saved_model_to_static(path: Path, input_shapes: tuple[tuple[int, ...], ...], workdir: Path) -> TFModel:
    """Re-trace a SavedModel's serving signature at fixed shapes (batch 1)."""
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as e:  # noqa: BLE001
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise InputFileError(f"{path}: not a loadable SavedModel ({first})",
                             "pass the directory that contains saved_model.pb") from None
    signatures = dict(loaded.signatures)
    if not signatures:
        raise InputFileError(f"{path}: the SavedModel has no serving signature",
                             "save it with tf.saved_model.save(obj, dir, signatures=...) or model.export(dir)")
    fn = signatures.get("serving_default") or signatures[sorted(signatures)[0]]
    arg_specs = fn.structured_input_signature[1]
    names = sorted(arg_specs)
    _check_count(input_shapes, names)
    specs = []
    for k, name in enumerate(names):
        spec = arg_specs[name]
        if spec.dtype != tf.float32:
            raise ConversionError(f"input '{name}' is {spec.dtype.name}, not float32", "export the model with float32 inputs")
        dims = None if spec.shape.rank is None else [None if d is None else int(d) for d in spec.shape]
        if dims is None:
            raise ConversionError(f"input '{name}' has unknown rank", "export the SavedModel with an input signature")
        specs.append(InputSpec(name, resolve_shape(name, dims, input_shapes[k] if input_shapes else None), None))

    signature = [tf.TensorSpec(s.model_shape, tf.float32, name=s.name) for s in specs]

    def call(*xs):
        return fn(**dict(zip(names, xs)))

    module = tf.Module()
    module.loaded = loaded  # keep the variables reachable from the saved object
    traced = tf.function(call, input_signature=signature).get_concrete_function()
    out = workdir / "saved_model"
    tf.saved_model.save(module, str(out), signatures=traced)
    return TFModel(out, tuple(specs), "saved-model")
