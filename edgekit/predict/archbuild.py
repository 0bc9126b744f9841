"""Materialise an ``ArchSpec``: a Keras model (converted with the TFLite converter, for latency
datasets) or a PyTorch module (for training and the NAS; converted by edgekit.convert).

Both follow ``archspace.layer_plan`` with PyTorch padding (symmetric k//2): the converters turn a
stride-1 layer into a SAME convolution and a stride-2 layer into PAD + VALID convolution, so the
two paths give the same TFLite graph structure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekit.core.artifact import atomic_write_bytes
from edgekit.lut.archspace import ArchSpec, layer_plan


def _kernel(spec: ArchSpec, k: int) -> tuple[int, int]:
    if spec.height == 1:
        return (1, k)
    return (k, 1) if spec.width == 1 else (k, k)


def _stride(spec: ArchSpec, s: int) -> tuple[int, int]:
    if spec.height == 1:
        return (1, s)
    return (s, 1) if spec.width == 1 else (s, s)


def build_keras(spec: ArchSpec, seed: int = 0) -> Any:
    import keras

    keras.utils.set_random_seed(seed)
    L = keras.layers

    def conv(x: Any, cout: int, k: int, stride: int, act: bool, depthwise: bool = False) -> Any:
        kh, kw = _kernel(spec, k)
        if stride > 1 and (kh > 1 or kw > 1):
            x = L.ZeroPadding2D(((kh // 2, kh // 2), (kw // 2, kw // 2)))(x)
            padding = "valid"
        else:
            padding = "same"
        s = _stride(spec, stride)
        if depthwise:
            x = L.DepthwiseConv2D((kh, kw), strides=s, padding=padding, use_bias=False)(x)
        else:
            x = L.Conv2D(cout, (kh, kw), strides=s, padding=padding, use_bias=False)(x)
        x = L.BatchNormalization()(x)
        return L.ReLU(max_value=6.0)(x) if act else x

    inp = L.Input(spec.input_shape_nhwc, batch_size=1)
    x = inp
    for layer in layer_plan(spec):
        if layer["op"] == "conv":
            x = conv(x, layer["cout"], layer["k"], layer["stride"], True)
        elif layer["op"] == "block":
            y = conv(x, layer["cin"] * layer["e"], 1, 1, True) if layer["e"] > 1 else x
            y = conv(y, 0, layer["k"], layer["stride"], True, depthwise=True)
            y = conv(y, layer["cout"], 1, 1, False)
            x = L.Add()([x, y]) if layer["residual"] else y
        else:
            x = L.GlobalAveragePooling2D()(x)
            x = L.Dense(layer["classes"])(x)
    return keras.Model(inp, x)


def keras_to_int8(model: Any, seed: int = 0, samples: int = 8) -> bytes:
    """Full-int8 TFLite (int8 input and output) with random calibration data: latency does not
    depend on the calibration."""
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(seed)
    shape = (1,) + tuple(int(d) for d in model.inputs[0].shape[1:])
    conv.representative_dataset = lambda: ([rng.uniform(-1, 1, shape).astype(np.float32)] for _ in range(samples))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def arch_tflite(spec: ArchSpec, cache_dir: Path, converter: bool = False) -> Path:
    """The int8 .tflite of ``spec``, cached by the architecture key: written directly, or with
    ``converter`` through Keras and the TFLite converter."""
    path = cache_dir / f"arch-{spec.key}{'-keras' if converter else ''}.tflite"
    if not path.is_file():
        if converter:
            from edgekit.convert.capture import captured_output

            with captured_output():
                data = keras_to_int8(build_keras(spec))
        else:
            from edgekit.lut.archgraph import write_int8

            data = write_int8(spec)
        atomic_write_bytes(path, data)
        atomic_write_bytes(path.with_suffix(".json"), spec.to_json().encode())
    return path


def build_torch(spec: ArchSpec, seed: int = 0) -> Any:
    """The PyTorch module (NCHW input; 1-D windows as N x C x 1 x T)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    def conv(cin: int, cout: int, k: int, stride: int, act: bool, groups: int = 1) -> nn.Module:
        kh, kw = _kernel(spec, k)
        s = _stride(spec, stride)
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, (kh, kw), s, (kh // 2, kw // 2), groups=groups, bias=False),
                                   nn.BatchNorm2d(cout)]
        if act:
            layers.append(nn.ReLU6())
        return nn.Sequential(*layers)

    class Block(nn.Module):
        def __init__(self, layer: dict[str, Any]) -> None:
            super().__init__()
            hidden = layer["cin"] * layer["e"]
            parts = [conv(layer["cin"], hidden, 1, 1, True)] if layer["e"] > 1 else []
            parts += [conv(hidden, hidden, layer["k"], layer["stride"], True, groups=hidden),
                      conv(hidden, layer["cout"], 1, 1, False)]
            self.body = nn.Sequential(*parts)
            self.residual = layer["residual"]

        def forward(self, x: Any) -> Any:
            y = self.body(x)
            return x + y if self.residual else y

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            plan = layer_plan(spec)
            stem = plan[0]
            self.stem = conv(spec.channels, stem["cout"], stem["k"], stem["stride"], True)
            self.blocks = nn.Sequential(*[Block(p) for p in plan[1:-1]])
            self.fc = nn.Linear(plan[-1]["cin"], plan[-1]["classes"])

        def forward(self, x: Any) -> Any:
            x = self.blocks(self.stem(x))
            return self.fc(x.mean((2, 3)))

    return Net().eval()
