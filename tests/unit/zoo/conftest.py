"""Helpers for the zoo tests: float TFLite conversion and per-layer (op, shape, MACs) lists."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Ops that compute on activations; reshapes, softmax and quantize are left out of the comparison.
COMPUTE_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D",
                         "MAX_POOL_2D", "ADD", "MEAN", "UNIDIRECTIONAL_SEQUENCE_LSTM"})

Layer = tuple[str, tuple[int, ...], int]   # (opcode, output shape, MACs)


def compute_layers(graph) -> list[Layer]:
    from edgekit.tflite.stats import op_macs

    layers = []
    for op in graph.operators:
        if op.opcode in COMPUTE_OPS:
            macs = op_macs(graph, op)
            assert macs is not None, f"{op.opcode} has no MAC model"
            layers.append((op.opcode, tuple(graph.tensor(op.outputs[0]).shape), macs))
    return layers


def keras_to_tflite(model, input_shape: tuple[int, ...]) -> bytes:
    """Plain float conversion of a Keras 3 model with a fixed batch of 1.

    Exporting with a batch-1 signature keeps every shape static; converting the model directly
    leaves SHAPE/STRIDED_SLICE/PACK before each RESHAPE for the unknown batch.
    """
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as d:
        model.export(d, format="tf_saved_model", verbose=False,
                     input_signature=[tf.TensorSpec((1, *input_shape), tf.float32)])
        return tf.lite.TFLiteConverter.from_saved_model(d).convert()


@pytest.fixture(name="compute_layers")
def compute_layers_fixture() -> Callable:
    return compute_layers


@pytest.fixture(name="keras_to_tflite")
def keras_to_tflite_fixture() -> Callable:
    return keras_to_tflite


@pytest.fixture
def mlperf_dir(assets_dir: Path) -> Path:
    d = assets_dir / "models" / "mlperf_tiny"
    if not d.is_dir():
        pytest.skip(f"MLPerf Tiny reference models not found under {d}")
    return d


@pytest.fixture
def reference_layers(mlperf_dir: Path) -> Callable[[str], list[Layer]]:
    from edgekit import zoo
    from edgekit.tflite.reader import read_tflite

    def load(name: str) -> list[Layer]:
        return compute_layers(read_tflite(mlperf_dir / zoo.get(name).reference_tflite))
    return load


@pytest.fixture
def har(assets_dir: Path):
    """HAR windows with the loader's defaults (52 samples, centred, standardised)."""
    from edgekit.datasets import load_har

    d = assets_dir / "datasets" / "stm32ai_har"
    if not d.is_dir():
        pytest.skip(f"HAR dataset not found under {d}")
    return load_har(path=d)
