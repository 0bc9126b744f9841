"""Fixtures for codegen integration tests: single-operator sweep models built with Keras and the
TFLite converter (int8), many operator variants per model so that one compiled library covers
many cases. Built once per test session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def _conv_branches(L, x, per_channel: bool) -> list:
    outs = []
    for k in (1, 3, 5, 7):
        for s in (1, 2):
            for pad in ("same", "valid"):
                act = {1: None, 3: "relu", 5: "relu6", 7: None}[k]
                outs.append(L.Conv2D(3 + (k + s) % 5, k, strides=s, padding=pad, activation=act)(x))
    return outs


def _dw_pool_branches(L, x) -> list:
    outs = []
    for k in (3, 5):
        for s in (1, 2):
            for m in (1, 2):
                outs.append(L.DepthwiseConv2D(k, strides=s, padding="same" if (k + m) % 2 else "valid",
                                              depth_multiplier=m, activation="relu6" if m == 2 else None)(x))
    outs.append(L.AveragePooling2D(3, strides=2, padding="same")(x))
    outs.append(L.AveragePooling2D(2, strides=1, padding="valid")(x))
    outs.append(L.MaxPooling2D(3, strides=2, padding="valid")(x))
    outs.append(L.MaxPooling2D(2, strides=2, padding="same")(x))
    return outs


def _elementwise_branches(L, x, tf) -> list:
    a = L.Conv2D(5, 1)(x)
    return [L.Add()([x, a]), L.Multiply()([x, a]), L.Concatenate(axis=-1)([x, a]),
            L.GlobalAveragePooling2D()(a), L.Activation("sigmoid")(x), L.Activation("tanh")(a), L.ReLU()(a),
            L.ReLU(max_value=6.0)(a), L.Activation(tf.keras.activations.hard_swish)(x)]


def _layout_branches(L, x) -> list:
    # Data-movement ops feed a convolution so that the converter keeps them in int8.
    return [L.Conv2D(3, 1)(L.ZeroPadding2D(((1, 2), (0, 3)))(x)), L.Conv2D(3, 1)(L.Permute((2, 1, 3))(x))]


def _inplace_chain(L, x, plane: bool) -> list:
    """A chain whose intermediate tensors die at their consumer, so the planner can run the
    depthwise and 1x1 layers in place (by rows or by channels, forwards and backwards)."""
    if plane:   # wide rows, many channels: the ring of rows would be larger than a channel plane
        y = L.Conv2D(64, 1, activation="relu")(x)
        y = L.DepthwiseConv2D(3, padding="same")(y)
        return [L.Conv2D(7, 1)(y)]
    y = L.Conv2D(8, 1)(x)
    y = L.DepthwiseConv2D(3, strides=2, padding="valid", activation="relu6")(y)
    y = L.Conv2D(24, 1)(y)
    y = L.DepthwiseConv2D(5, padding="same")(y)
    return [L.Conv2D(5, 1)(y)]


def _dense_branches(L, x) -> list:
    f = L.Flatten()(x)
    return [L.Dense(7, activation="relu")(f), L.Softmax()(L.Dense(10)(f))]


def _convert(tf, model, per_channel: bool, seed: int, float_io: bool = False) -> bytes:
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(seed)
    shape = (1,) + tuple(model.inputs[0].shape[1:])
    conv.representative_dataset = lambda: ([rng.uniform(-2, 2, shape).astype(np.float32)] for _ in range(16))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not float_io:   # float I/O keeps QUANTIZE / DEQUANTIZE at the graph edges
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    if not per_channel:
        conv._experimental_disable_per_channel = True
    return conv.convert()


def dilate(tflite: bytes, factor: int = 2) -> bytes:
    """The same model with every stride-1 SAME convolution / depthwise convolution dilated.

    SAME padding keeps the output shape, so the result is a valid model whose reference output
    TFLite Micro computes; the converter itself emits SPACE_TO_BATCH_ND for dilations."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(tflite, 0)
    for op in model.subgraphs[0].operators:
        o = op.builtinOptions
        if (hasattr(o, "dilationWFactor") and o.strideW == 1 and o.strideH == 1
                and o.padding == schema.Padding.SAME):
            o.dilationWFactor = o.dilationHFactor = factor
    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@pytest.fixture(scope="session")
def sweep_models(tmp_path_factory) -> dict[str, Path]:
    """name -> .tflite path of each single-operator sweep model (odd channel counts throughout)."""
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(1)
    L = tf.keras.layers
    out = tmp_path_factory.mktemp("sweep")
    specs = {
        "conv_per_channel": (lambda x: _conv_branches(L, x, True), True),
        "conv_per_tensor": (lambda x: _conv_branches(L, x, False), False),
        "depthwise_pool": (lambda x: _dw_pool_branches(L, x), True),
        "elementwise": (lambda x: _elementwise_branches(L, x, tf), True),
        "layout": (lambda x: _layout_branches(L, x), True),
        "dense_per_channel": (lambda x: _dense_branches(L, x), True),
        "dense_per_tensor": (lambda x: _dense_branches(L, x), False),
    }
    paths = {}
    shapes = {"inplace_rows": (15, 13, 5), "inplace_plane": (4, 20, 5)}
    specs["inplace_rows"] = (lambda x: _inplace_chain(L, x, False), True)
    specs["inplace_plane"] = (lambda x: _inplace_chain(L, x, True), True)
    specs["float_io"] = (lambda x: [L.Conv2D(6, 3, strides=2, activation="relu")(x)], True)
    for i, (name, (branches, per_channel)) in enumerate(specs.items()):
        x = L.Input(shapes.get(name, (11, 11, 5)), batch_size=1, name="img")
        model = tf.keras.Model(x, branches(x))
        p = out / f"{name}.tflite"
        p.write_bytes(_convert(tf, model, per_channel, i, float_io=name == "float_io"))
        paths[name] = p
    for name in ("conv_per_channel", "depthwise_pool"):
        p = out / f"{name}_dilated.tflite"
        p.write_bytes(dilate(paths[name].read_bytes()))
        paths[f"{name}_dilated"] = p
    return paths


def _convert_calibrated(tf, converter, shape: tuple[int, ...], seed: int) -> bytes:
    """Full int8 (int8 I/O) with calibration data of the given shape (batch included)."""
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(seed)
    converter.representative_dataset = lambda: ([rng.normal(0, 1, shape).astype(np.float32)] for _ in range(24))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


@pytest.fixture(scope="session")
def recurrent_models(tmp_path_factory) -> dict[str, Path]:
    """int8 LSTM models converted from tf_keras (batch 1: the converter then fuses each LSTM into
    one UNIDIRECTIONAL_SEQUENCE_LSTM): the zoo's HAR LSTM, and a stack of two LSTMs with odd
    sizes, the first returning its whole sequence."""
    tf = pytest.importorskip("tensorflow")
    tf_keras = pytest.importorskip("tf_keras")
    from edgekit.zoo import keras_models

    out = tmp_path_factory.mktemp("recurrent")
    paths = {}
    har = keras_models.har_lstm(batch_size=1, seed=0)
    paths["har_lstm"] = out / "har_lstm.tflite"
    paths["har_lstm"].write_bytes(_convert_calibrated(tf, tf.lite.TFLiteConverter.from_keras_model(har),
                                                      (1,) + tuple(har.inputs[0].shape[1:]), 0))
    tf_keras.utils.set_random_seed(3)
    K = tf_keras.layers
    x = tf_keras.Input((9, 5), batch_size=1)
    y = K.LSTM(7, return_sequences=True)(x)
    y = K.LSTM(6)(y)
    stacked = tf_keras.Model(x, K.Dense(4)(y))
    paths["stacked_lstm"] = out / "stacked_lstm.tflite"
    paths["stacked_lstm"].write_bytes(_convert_calibrated(tf, tf.lite.TFLiteConverter.from_keras_model(stacked),
                                                          (1, 9, 5), 1))
    return paths


@pytest.fixture(scope="session")
def keras3_exports(tmp_path_factory) -> dict[str, Path]:
    """Keras 3 models as users export them. ``dynamic_batch_*``: converted with the batch left
    unknown, so RESHAPE / Flatten get their shapes from SHAPE / STRIDED_SLICE / PACK and dilated
    convolutions arrive as SPACE_TO_BATCH_ND / CONV_2D / BATCH_TO_SPACE_ND. ``fixed_batch_dilated``:
    batch 1, where the converter emits dilated convolutions directly."""
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    L = keras.layers
    out = tmp_path_factory.mktemp("keras3")
    keras.utils.set_random_seed(5)

    def dilated(batch_size):
        return [keras.Input((12, 12, 3), batch_size=batch_size),
                L.Conv2D(4, 3, dilation_rate=2, padding="same", activation="relu"),
                L.DepthwiseConv2D(3, dilation_rate=2, padding="valid"),
                L.Conv2D(5, 3, dilation_rate=(2, 3), padding="same")]

    specs = {
        # no Dense: LiteRT's FULLY_CONNECTED rounds differently from TFLite Micro's (PLATFORM_NOTES)
        "dynamic_batch_dilated": (dilated(None) + [L.Reshape((40, 8)), L.Conv1D(3, 3), L.Flatten(), L.Softmax()],
                                  (12, 12, 3)),
        "dynamic_batch_dense": ([keras.Input((6, 6, 3)), L.Conv2D(4, 3, padding="same", activation="relu"),
                                 L.Reshape((9, 16)), L.Conv1D(5, 3), L.Flatten(), L.Dense(7), L.Softmax()], (6, 6, 3)),
        "fixed_batch_dilated": (dilated(1) + [L.Flatten(), L.Dense(6)], (12, 12, 3)),
    }
    paths = {}
    for i, (name, (layers, shape)) in enumerate(specs.items()):
        model = keras.Sequential(layers)
        paths[name] = out / f"{name}.tflite"
        paths[name].write_bytes(_convert_calibrated(tf, tf.lite.TFLiteConverter.from_keras_model(model),
                                                    (1,) + shape, 10 + i))
    return paths



@pytest.fixture(scope="session")
def svdf_models(tmp_path_factory) -> dict[str, Path]:
    """Single-SVDF models (int8 / int16 state, zero point 0 or not, rank 1-3, batch 1-2) written
    as flatbuffers: the asset SVDF models saturate every layer whatever the state, these do not."""
    pytest.importorskip("ai_edge_litert")
    from svdf_models import CASES, build_svdf

    out = tmp_path_factory.mktemp("svdf")
    paths = {}
    for i, case in enumerate(CASES):
        paths[case.name] = out / f"svdf_{case.name}.tflite"
        paths[case.name].write_bytes(build_svdf(case, seed=i))
    return paths
