"""PyTorch builders of the zoo networks (NCHW; sequences are (N, T, C) for the LSTM).

Every convolution pads exactly like TensorFlow's "SAME": a stride-2 convolution on an even input
pads one row/column at the bottom/right only, so torch uses an explicit ``ZeroPad2d`` there. That
keeps the torch and Keras builders the same function (weights copied across give the same
outputs), not just the same shapes; the padding is worked out for the input size given to the
builder, so a model is built for one input size. BatchNorm uses Keras' eps (1e-3) and momentum for the same
reason. Classifiers return logits unless ``softmax_output`` is set (the reference graphs end in
SOFTMAX; torch losses expect logits).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from edgekit.core.errors import UsageError
from edgekit.zoo.common import MOBILENET_V1_BLOCKS, har_pooled_length, mobilenet_channels

_BN_EPS = 1e-3        # Keras BatchNormalization default
_BN_MOMENTUM = 0.01   # torch's momentum is 1 - Keras' 0.99


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Initialise from ``seed`` without touching the caller's global RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """TF SAME: output size and (before, after) padding along one axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def conv2d_same(in_ch: int, out_ch: int, kernel: tuple[int, int], stride: int,
                in_hw: tuple[int, int], groups: int = 1,
                bias: bool = False) -> tuple[nn.Module, tuple[int, int]]:
    """A Conv2d with TF-SAME padding for an input of size ``in_hw``; returns it and the output size."""
    out_h, top, bottom = _same_padding(in_hw[0], kernel[0], stride)
    out_w, left, right = _same_padding(in_hw[1], kernel[1], stride)
    if top == bottom and left == right:
        conv = nn.Conv2d(in_ch, out_ch, kernel, stride, padding=(top, left), groups=groups, bias=bias)
        return conv, (out_h, out_w)
    conv = nn.Conv2d(in_ch, out_ch, kernel, stride, padding=0, groups=groups, bias=bias)
    return nn.Sequential(nn.ZeroPad2d((left, right, top, bottom)), conv), (out_h, out_w)


def _bn2d(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=_BN_EPS, momentum=_BN_MOMENTUM)


def _head(features: int, num_classes: int, softmax_output: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(features, num_classes)]
    if softmax_output:
        layers.append(nn.Softmax(dim=1))
    return layers


def ds_cnn(num_classes: int = 12, input_hw: tuple[int, int] = (49, 10), filters: int = 64,
           blocks: int = 4, softmax_output: bool = False, seed: int = 0) -> nn.Module:
    """MLPerf Tiny keyword spotting DS-CNN: input (1, 49, 10) MFCC frames x coefficients."""
    with _seeded(seed):
        conv0, hw = conv2d_same(1, filters, (10, 4), 2, input_hw)
        layers: list[nn.Module] = [conv0, _bn2d(filters), nn.ReLU(), nn.Dropout(0.2)]
        for _ in range(blocks):
            dw, hw = conv2d_same(filters, filters, (3, 3), 1, hw, groups=filters)
            pw, hw = conv2d_same(filters, filters, (1, 1), 1, hw)
            layers += [dw, _bn2d(filters), nn.ReLU(), pw, _bn2d(filters), nn.ReLU()]
        layers += [nn.Dropout(0.4), nn.AvgPool2d(hw)]
        return nn.Sequential(*layers, *_head(filters, num_classes, softmax_output))


def mobilenet_v1(num_classes: int = 2, input_size: int = 96, alpha: float = 0.25,
                 input_channels: int = 3, softmax_output: bool = False, seed: int = 0) -> nn.Module:
    """MLPerf Tiny visual wake words MobileNetV1 (alpha 0.25, 96x96 RGB by default)."""
    channels = mobilenet_channels(alpha)
    with _seeded(seed):
        stem, hw = conv2d_same(input_channels, channels[0], (3, 3), 2, (input_size, input_size))
        layers: list[nn.Module] = [stem, _bn2d(channels[0]), nn.ReLU()]
        in_ch = channels[0]
        for out_ch, (_, stride) in zip(channels[1:], MOBILENET_V1_BLOCKS):
            dw, hw = conv2d_same(in_ch, in_ch, (3, 3), stride, hw, groups=in_ch)
            pw, hw = conv2d_same(in_ch, out_ch, (1, 1), 1, hw)
            layers += [dw, _bn2d(in_ch), nn.ReLU(), pw, _bn2d(out_ch), nn.ReLU()]
            in_ch = out_ch
        layers.append(nn.AvgPool2d(hw))
        return nn.Sequential(*layers, *_head(in_ch, num_classes, softmax_output))


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions plus the input; a strided 1x1 convolution (no BN) when the size changes."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, in_hw: tuple[int, int]) -> None:
        super().__init__()
        self.conv1, hw = conv2d_same(in_ch, out_ch, (3, 3), stride, in_hw)
        self.bn1 = _bn2d(out_ch)
        self.conv2, self.out_hw = conv2d_same(out_ch, out_ch, (3, 3), 1, hw)
        self.bn2 = _bn2d(out_ch)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut, _ = conv2d_same(in_ch, out_ch, (1, 1), stride, in_hw, bias=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(self.shortcut(x) + y)


def resnet8(num_classes: int = 10, input_size: int = 32, filters: int = 16,
            softmax_output: bool = False, seed: int = 0) -> nn.Module:
    """MLPerf Tiny image classification ResNet-8 (CIFAR-10, three residual stacks)."""
    with _seeded(seed):
        stem, hw = conv2d_same(3, filters, (3, 3), 1, (input_size, input_size))
        layers: list[nn.Module] = [stem, _bn2d(filters), nn.ReLU()]
        in_ch = filters
        for out_ch, stride in ((filters, 1), (2 * filters, 2), (4 * filters, 2)):
            block = ResidualBlock(in_ch, out_ch, stride, hw)
            layers.append(block)
            hw, in_ch = block.out_hw, out_ch
        layers.append(nn.AvgPool2d(hw))
        return nn.Sequential(*layers, *_head(in_ch, num_classes, softmax_output))


def fc_autoencoder(input_dim: int = 640, hidden: int = 128, bottleneck: int = 8,
                   hidden_layers: int = 4, seed: int = 0) -> nn.Module:
    """MLPerf Tiny anomaly detection autoencoder: 640 -> 4x128 -> 8 -> 4x128 -> 640."""
    widths = [input_dim] + [hidden] * hidden_layers + [bottleneck] + [hidden] * hidden_layers
    with _seeded(seed):
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b, bias=False), nn.BatchNorm1d(b, eps=_BN_EPS, momentum=_BN_MOMENTUM),
                       nn.ReLU()]
        layers.append(nn.Linear(widths[-1], input_dim))
        return nn.Sequential(*layers)


def har_cnn1d(window_len: int = 52, num_classes: int = 3, filters: tuple[int, int, int] = (16, 32, 32),
              softmax_output: bool = False, seed: int = 0) -> nn.Module:
    """Small 1-D CNN for (N, 3, window_len) accelerometer windows (channels = x, y, z)."""
    f1, f2, f3 = filters
    length = har_pooled_length(window_len)
    if length < 1:
        raise UsageError(f"window_len={window_len} is too short for two 2x poolings",
                         "use window_len >= 4")
    with _seeded(seed):
        return nn.Sequential(
            nn.Conv1d(3, f1, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(f1, f2, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(f2, f3, 3, padding=1), nn.ReLU(), nn.AvgPool1d(length),
            *_head(f3, num_classes, softmax_output))


class HarLSTM(nn.Module):
    """One LSTM layer over (N, T, 3) windows, classifier on the last hidden state."""

    def __init__(self, hidden: int, num_classes: int, softmax_output: bool) -> None:
        super().__init__()
        self.lstm = nn.LSTM(3, hidden, batch_first=True)
        # Keras' unit_forget_bias: forget gate bias 1 (gate order i, f, g, o), other biases 0.
        # Both frameworks then start from the same kind of state, and training leaves its plateau sooner.
        with torch.no_grad():
            self.lstm.bias_ih_l0.zero_()
            self.lstm.bias_hh_l0.zero_()
            self.lstm.bias_ih_l0[hidden:2 * hidden] = 1.0
        self.fc = nn.Linear(hidden, num_classes)
        self.softmax: nn.Module = nn.Softmax(dim=1) if softmax_output else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sequence, _ = self.lstm(x)
        return self.softmax(self.fc(sequence[:, -1]))


def har_lstm(window_len: int = 52, hidden: int = 32, num_classes: int = 3,
             softmax_output: bool = False, seed: int = 0) -> nn.Module:
    """Single-layer LSTM + FC head for (N, window_len, 3) windows (window_len only documents T)."""
    if window_len < 1:
        raise UsageError(f"window_len={window_len} must be >= 1", "use window_len >= 1")
    with _seeded(seed):
        return HarLSTM(hidden, num_classes, softmax_output)
