"""Reference architectures: the MLPerf Tiny networks and two small accelerometer models.

The registry is plain data: what each network takes and gives, and which MLPerf Tiny reference
.tflite its layer shapes and MACs equal. Builders live in ``torch_models`` (NCHW) and
``keras_models`` (NHWC) and are imported only when asked for, so reading the registry needs
neither framework.

    >>> from edgekit import zoo
    >>> zoo.get("kws_ds_cnn").input_shape_nhwc
    (49, 10, 1)
    >>> model = zoo.build_torch("kws_ds_cnn", seed=0)
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekit.core.errors import InputFileError, UsageError
from edgekit.core.assets import ASSETS_ENV, assets_dir
from edgekit.datasets.har import DEFAULT_WINDOW_LEN as HAR_WINDOW_LEN

_REFERENCE_DIR = ("models", "mlperf_tiny")


@dataclass(frozen=True)
class ZooEntry:
    """One network. Shapes exclude the batch dimension.

    ``input_shape_nhwc`` is what the Keras builder (and its TFLite conversion) takes: channels
    last. ``input_shape_nchw`` is what the PyTorch builder takes: channels first. Vectors are the
    same in both; for sequences "channels" are the accelerometer axes, and the LSTM takes
    (T, 3) in both frameworks (batch_first).
    """

    name: str
    description: str
    task: str                               # "classifier" | "autoencoder"
    input_shape_nhwc: tuple[int, ...]
    input_shape_nchw: tuple[int, ...]
    output_shape: tuple[int, ...]
    num_classes: int | None                 # None for autoencoders
    builder: str                            # function name in torch_models and keras_models
    reference_tflite: str | None = None     # file in <assets>/models/mlperf_tiny it must match
    keras_package: str = "keras"            # "keras" (Keras 3) or "tf_keras" (see keras_models)


_ENTRIES: tuple[ZooEntry, ...] = (
    ZooEntry("kws_ds_cnn", "MLPerf Tiny keyword spotting DS-CNN (49x10 MFCC, 12 classes)",
             "classifier", (49, 10, 1), (1, 49, 10), (12,), 12, "ds_cnn",
             "kws_ref_model_int8.tflite"),
    ZooEntry("vww_mobilenet_v1", "MLPerf Tiny visual wake words MobileNetV1 alpha 0.25, 96x96 RGB",
             "classifier", (96, 96, 3), (3, 96, 96), (2,), 2, "mobilenet_v1", "vww_96_int8.tflite"),
    ZooEntry("ic_resnet8", "MLPerf Tiny image classification ResNet-8, CIFAR-10 32x32 RGB",
             "classifier", (32, 32, 3), (3, 32, 32), (10,), 10, "resnet8",
             "pretrainedResnet_quant.tflite"),
    ZooEntry("ad_autoencoder", "MLPerf Tiny anomaly detection FC autoencoder (640 log-mel features)",
             "autoencoder", (640,), (640,), (640,), None, "fc_autoencoder", "ad01_int8.tflite"),
    ZooEntry("har_cnn1d", "1-D CNN for 3-axis accelerometer windows (stationary/walking/running)",
             "classifier", (HAR_WINDOW_LEN, 3), (3, HAR_WINDOW_LEN), (3,), 3, "har_cnn1d"),
    ZooEntry("har_lstm", "Single-layer LSTM for 3-axis accelerometer windows (stationary/walking/running)",
             "classifier", (HAR_WINDOW_LEN, 3), (HAR_WINDOW_LEN, 3), (3,), 3, "har_lstm",
             keras_package="tf_keras"),
)
_BY_NAME = {e.name: e for e in _ENTRIES}


def names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def entries() -> tuple[ZooEntry, ...]:
    return _ENTRIES


def get(name: str) -> ZooEntry:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UsageError(f"unknown zoo network {name!r}", f"known: {', '.join(_BY_NAME)}") from None


def build_torch(name: str, seed: int = 0) -> Any:
    """The PyTorch ``nn.Module`` of ``name`` with its default arguments, initialised from ``seed``."""
    module = importlib.import_module("edgekit.zoo.torch_models")
    return getattr(module, get(name).builder)(seed=seed)


def build_keras(name: str, seed: int = 0) -> Any:
    """The Keras model of ``name`` with its default arguments, initialised from ``seed``."""
    module = importlib.import_module("edgekit.zoo.keras_models")
    return getattr(module, get(name).builder)(seed=seed)


def reference_path(name: str) -> Path:
    """The reference .tflite of ``name``; InputFileError when it has none or the file is absent."""
    entry = get(name)
    if entry.reference_tflite is None:
        raise UsageError(f"zoo network {name!r} has no reference .tflite",
                         "only the MLPerf Tiny networks have one: "
                         + ", ".join(e.name for e in _ENTRIES if e.reference_tflite))
    path = assets_dir().joinpath(*_REFERENCE_DIR, entry.reference_tflite)
    if not path.is_file():
        raise InputFileError(f"reference model {path} not found",
                             f"set {ASSETS_ENV} to the folder holding models/mlperf_tiny")
    return path


__all__ = ["HAR_WINDOW_LEN", "ZooEntry", "build_keras", "build_torch", "entries", "get", "names",
           "reference_path"]
