"""Keras builders of the zoo networks (NHWC), the same functions as torch_models.py.

These use Keras 3 (``import keras``), except ``har_lstm``: only tf_keras' LSTM carries the
signature the TFLite converter fuses into one UNIDIRECTIONAL_SEQUENCE_LSTM op (a Keras 3 LSTM
becomes a WHILE loop, which no MCU runtime runs). Layers followed by BatchNorm have no bias, as
in torch_models.py, so weights copy across one to one. Initialisers get seeds derived from
``seed``: same seed, same weights, without touching global RNG state.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from edgekit.core.errors import UsageError
from edgekit.zoo.common import MOBILENET_V1_BLOCKS, har_pooled_length, mobilenet_channels


class _Seeds:
    """Distinct initialiser seeds derived from one builder seed."""

    def __init__(self, seed: int) -> None:
        self._base = seed * 100_003
        self._count = 0

    def next(self) -> int:
        self._count += 1
        return self._base + self._count

    def glorot(self) -> keras.initializers.Initializer:
        return keras.initializers.GlorotUniform(seed=self.next())


def _conv_bn_relu(x: Any, seeds: _Seeds, filters: int, kernel: int | tuple[int, int],
                  stride: int = 1) -> Any:
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False,
                      kernel_initializer=seeds.glorot())(x)
    return layers.ReLU()(layers.BatchNormalization()(x))


def _dw_bn_relu(x: Any, seeds: _Seeds, stride: int = 1) -> Any:
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False,
                               depthwise_initializer=seeds.glorot())(x)
    return layers.ReLU()(layers.BatchNormalization()(x))


def _pool_head(x: Any, seeds: _Seeds, num_classes: int, softmax_output: bool) -> Any:
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)
    x = layers.Flatten()(x)
    return layers.Dense(num_classes, activation="softmax" if softmax_output else None,
                        kernel_initializer=seeds.glorot())(x)


def ds_cnn(num_classes: int = 12, input_hw: tuple[int, int] = (49, 10), filters: int = 64,
           blocks: int = 4, softmax_output: bool = True, seed: int = 0) -> keras.Model:
    """MLPerf Tiny keyword spotting DS-CNN: input (49, 10, 1) MFCC frames x coefficients."""
    seeds = _Seeds(seed)
    inputs = keras.Input((*input_hw, 1))
    x = _conv_bn_relu(inputs, seeds, filters, (10, 4), 2)
    x = layers.Dropout(0.2, seed=seeds.next())(x)
    for _ in range(blocks):
        x = _dw_bn_relu(x, seeds)
        x = _conv_bn_relu(x, seeds, filters, 1)
    x = layers.Dropout(0.4, seed=seeds.next())(x)
    return keras.Model(inputs, _pool_head(x, seeds, num_classes, softmax_output), name="kws_ds_cnn")


def mobilenet_v1(num_classes: int = 2, input_size: int = 96, alpha: float = 0.25,
                 input_channels: int = 3, softmax_output: bool = True, seed: int = 0) -> keras.Model:
    """MLPerf Tiny visual wake words MobileNetV1 (alpha 0.25, 96x96 RGB by default)."""
    seeds = _Seeds(seed)
    channels = mobilenet_channels(alpha)
    inputs = keras.Input((input_size, input_size, input_channels))
    x = _conv_bn_relu(inputs, seeds, channels[0], 3, 2)
    for out_ch, (_, stride) in zip(channels[1:], MOBILENET_V1_BLOCKS):
        x = _dw_bn_relu(x, seeds, stride)
        x = _conv_bn_relu(x, seeds, out_ch, 1)
    return keras.Model(inputs, _pool_head(x, seeds, num_classes, softmax_output),
                       name="vww_mobilenet_v1")


def _residual_block(x: Any, seeds: _Seeds, filters: int, stride: int) -> Any:
    y = _conv_bn_relu(x, seeds, filters, 3, stride)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=seeds.glorot())(y)
    y = layers.BatchNormalization()(y)
    if stride != 1 or x.shape[-1] != filters:
        x = layers.Conv2D(filters, 1, strides=stride, padding="same",
                          kernel_initializer=seeds.glorot())(x)
    return layers.ReLU()(layers.Add()([x, y]))


def resnet8(num_classes: int = 10, input_size: int = 32, filters: int = 16,
            softmax_output: bool = True, seed: int = 0) -> keras.Model:
    """MLPerf Tiny image classification ResNet-8 (CIFAR-10, three residual stacks)."""
    seeds = _Seeds(seed)
    inputs = keras.Input((input_size, input_size, 3))
    x = _conv_bn_relu(inputs, seeds, filters, 3)
    for out_ch, stride in ((filters, 1), (2 * filters, 2), (4 * filters, 2)):
        x = _residual_block(x, seeds, out_ch, stride)
    return keras.Model(inputs, _pool_head(x, seeds, num_classes, softmax_output), name="ic_resnet8")


def fc_autoencoder(input_dim: int = 640, hidden: int = 128, bottleneck: int = 8,
                   hidden_layers: int = 4, seed: int = 0) -> keras.Model:
    """MLPerf Tiny anomaly detection autoencoder: 640 -> 4x128 -> 8 -> 4x128 -> 640."""
    seeds = _Seeds(seed)
    inputs = keras.Input((input_dim,))
    x = inputs
    for width in [hidden] * hidden_layers + [bottleneck] + [hidden] * hidden_layers:
        x = layers.Dense(width, use_bias=False, kernel_initializer=seeds.glorot())(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    outputs = layers.Dense(input_dim, kernel_initializer=seeds.glorot())(x)
    return keras.Model(inputs, outputs, name="ad_autoencoder")


def har_cnn1d(window_len: int = 52, num_classes: int = 3, filters: tuple[int, int, int] = (16, 32, 32),
              softmax_output: bool = True, seed: int = 0) -> keras.Model:
    """Small 1-D CNN for (window_len, 3) accelerometer windows.

    The window is reshaped to (window_len, 1, 3) and convolved with (k, 1) kernels: the same
    arithmetic as Conv1D, but TFLite gets plain CONV_2D/MAX_POOL_2D ops without a reshape pair
    around each layer.
    """
    f1, f2, f3 = filters
    if har_pooled_length(window_len) < 1:
        raise UsageError(f"window_len={window_len} is too short for two 2x poolings",
                         "use window_len >= 4")
    seeds = _Seeds(seed)
    inputs = keras.Input((window_len, 3))
    x = layers.Reshape((window_len, 1, 3))(inputs)
    for width, kernel in ((f1, 5), (f2, 5)):
        x = layers.Conv2D(width, (kernel, 1), padding="same", activation="relu",
                          kernel_initializer=seeds.glorot())(x)
        x = layers.MaxPooling2D((2, 1))(x)
    x = layers.Conv2D(f3, (3, 1), padding="same", activation="relu", kernel_initializer=seeds.glorot())(x)
    return keras.Model(inputs, _pool_head(x, seeds, num_classes, softmax_output), name="har_cnn1d")


def har_lstm(window_len: int = 52, hidden: int = 32, num_classes: int = 3, softmax_output: bool = True,
             batch_size: int | None = None, seed: int = 0) -> Any:
    """Single-layer LSTM + FC head for (window_len, 3) windows, a ``tf_keras.Model``.

    Train with ``batch_size=None``; build a twin with ``batch_size=1`` and copy the weights
    (``set_weights(get_weights())``) before converting: the converter fuses the LSTM only when
    every shape is static.
    """
    if window_len < 1:
        raise UsageError(f"window_len={window_len} must be >= 1", "use window_len >= 1")
    import tf_keras

    seed_base = seed * 100_003
    inputs = tf_keras.Input((window_len, 3), batch_size=batch_size)
    x = tf_keras.layers.LSTM(hidden, kernel_initializer=tf_keras.initializers.GlorotUniform(seed_base + 1),
                             recurrent_initializer=tf_keras.initializers.Orthogonal(seed=seed_base + 2))(inputs)
    outputs = tf_keras.layers.Dense(num_classes, activation="softmax" if softmax_output else None,
                                    kernel_initializer=tf_keras.initializers.GlorotUniform(seed_base + 3))(x)
    return tf_keras.Model(inputs, outputs, name="har_lstm")
