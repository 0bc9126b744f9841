"""Architecture -> PyTorch nn.Module, following the edgekit.zoo conventions.

Convolutions pad exactly like TensorFlow "SAME" (explicit ``ZeroPad2d`` when the padding is
asymmetric), BatchNorm uses Keras' eps and momentum, classifiers return logits. A 1-D network
takes (N, C, T, 1) and uses (k, 1) kernels (strides (s, s): the width axis has size 1).

A trained candidate is saved as ``arch.json`` (space + architecture) and ``weights.pt`` (a plain
state dict, loaded with ``weights_only=True``); ``write_factory`` puts a ``model.py:build`` next to
them, which is what ``edgekit convert`` takes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from edgekit.core.artifact import atomic_write_text
from edgekit.core.errors import InputFileError, UsageError
from edgekit.nas.space import IRArch, IRSpace

BN_EPS = 1e-3         # Keras BatchNormalization default (edgekit.zoo convention)
BN_MOMENTUM = 0.01    # torch's momentum is 1 - Keras' 0.99


def same_pad(size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """TF SAME along one axis: output size, padding before, padding after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


class ConvBN(nn.Module):
    """[ZeroPad2d] + Conv2d (no bias) + BatchNorm + optional ReLU6, SAME-padded for ``in_hw``."""

    def __init__(self, cin: int, cout: int, kernel: tuple[int, int], stride: tuple[int, int],
                 in_hw: tuple[int, int], groups: int = 1, act: bool = True) -> None:
        super().__init__()
        oh, top, bottom = same_pad(in_hw[0], kernel[0], stride[0])
        ow, left, right = same_pad(in_hw[1], kernel[1], stride[1])
        self.out_hw = (oh, ow)
        symmetric = top == bottom and left == right
        self.pad: nn.Module = nn.Identity() if symmetric else nn.ZeroPad2d((left, right, top, bottom))
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding=(top, left) if symmetric else 0,
                              groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act: nn.Module = nn.ReLU6() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(self.pad(x))))


class IRBlock(nn.Module):
    """Inverted residual: [1x1 expand] -> kxk depthwise -> 1x1 project (linear) [+ input]."""

    def __init__(self, cin: int, cout: int, expansion: int, kernel: tuple[int, int], stride: tuple[int, int],
                 in_hw: tuple[int, int], residual: bool) -> None:
        super().__init__()
        hidden = cin * expansion
        self.expand: nn.Module | None = ConvBN(cin, hidden, (1, 1), (1, 1), in_hw) if expansion > 1 else None
        self.dw = ConvBN(hidden, hidden, kernel, stride, in_hw, groups=hidden)
        self.project = ConvBN(hidden, cout, (1, 1), (1, 1), self.dw.out_hw, act=False)
        self.out_hw = self.dw.out_hw
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.dw(y))
        return x + y if self.residual else y


class IRNet(nn.Module):
    def __init__(self, space: IRSpace, arch: IRArch) -> None:
        super().__init__()
        space.check(arch)
        _, _, h, w = space.input_shape(arch.resolution)

        def axes(v: int) -> tuple[int, int]:
            # equal strides even for 1-D (the width axis has size 1, so it changes nothing): TF's
            # depthwise convolution supports only equal strides, and the converter goes through it
            return (v, v)

        self.stem = ConvBN(space.in_channels, space.stem_channels, space.kernel_shape(space.stem_kernel),
                           axes(space.stem_stride), (h, w))
        hw, cin = self.stem.out_hw, space.stem_channels
        blocks: list[nn.Module] = []
        for s, st in enumerate(arch.stages):
            cout = space.channels(s, st.width)
            for b, (k, e) in enumerate(zip(st.kernels, st.expansions)):
                stride = axes(space.stage_strides[s]) if b == 0 else (1, 1)
                # residual on every block but a stage's first (the rule the supernet shares)
                block = IRBlock(cin, cout, e, space.kernel_shape(k), stride, hw, residual=b > 0)
                blocks.append(block)
                hw, cin = block.out_hw, cout
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(cin, space.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.pool(self.blocks(self.stem(x)))))


# -- space / architecture dispatch ------------------------------------------------------------
def space_from_json(d: Mapping[str, Any]) -> Any:
    kind = d.get("kind", "mcu-ir")
    if kind == "mcu-ir":
        return IRSpace.from_json(d)
    if kind == "nb201":
        from edgekit.nas.nb201 import NB201Space
        return NB201Space.from_json(d)
    raise InputFileError(f"unknown search space kind {kind!r} in an architecture file",
                         "the file was written by another edgekit version; rerun the search")


def arch_from_json(space: Any, d: Mapping[str, Any]) -> Any:
    if space.kind == "nb201":
        from edgekit.nas.nb201 import NB201Arch
        return NB201Arch.from_json(d)
    return IRArch.from_json(d)


def build_model(space: Any, arch: Any, seed: int = 0) -> nn.Module:
    """A freshly initialised network (seeded without touching the caller's RNG)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if space.kind == "nb201":
            from edgekit.nas.nb201_net import NB201Net
            return NB201Net(space, arch)
        return IRNet(space, arch)


def save_arch(path: Path, space: Any, arch: Any) -> None:
    atomic_write_text(path, json.dumps({"space": space.to_json(), "arch": arch.to_json()}, indent=1) + "\n")


def load_arch(path: Path) -> tuple[Any, Any]:
    try:
        d = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise InputFileError(f"cannot read architecture file {path}: {e}", "rerun the search") from None
    space = space_from_json(d["space"])
    return space, arch_from_json(space, d["arch"])


def load_trained(arch_json: str | Path, weights: str | Path) -> nn.Module:
    space, arch = load_arch(Path(arch_json))
    model = build_model(space, arch)
    state = torch.load(str(weights), map_location="cpu", weights_only=True)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise InputFileError(f"{weights} does not fit {arch_json}: {str(e).splitlines()[0]}",
                             "delete the candidate folder and rerun the search") from None
    return model.eval()


_FACTORY = '''"""A trained edgekit NAS candidate: `edgekit convert model.py:build --input-shape {shape}`."""
from pathlib import Path

from edgekit.nas.materialize import load_trained


def build():
    here = Path(__file__).resolve().parent
    return load_trained(here / "arch.json", here / "weights.pt")
'''


def write_factory(folder: Path, input_shape: tuple[int, ...]) -> Path:
    if not (folder / "arch.json").is_file() or not (folder / "weights.pt").is_file():
        raise UsageError(f"{folder} has no arch.json + weights.pt", "save the candidate first")
    path = folder / "model.py"
    atomic_write_text(path, _FACTORY.format(shape=",".join(map(str, input_shape))))
    return path
