"""The MCU-class inverted-residual search space (shared with the NAS of edgekit.search).

An architecture (``ArchSpec``) is: an input (2-D image H x W x C, or a 1-D sensor window of T
samples x C axes, carried as 1 x T or T x 1 so that every layer is a 2-D TFLite operator), a stem
convolution, ``STAGES`` stages of MobileNetV2 inverted-residual blocks, global average pooling
and a fully connected classifier. Per stage the search chooses kernel (3/5/7), expansion
(1/3/6), depth (1..3) and width multiplier; the input resolution is a choice too.

Padding follows PyTorch (symmetric k//2): stride-1 layers become SAME convolutions, stride-2
layers an explicit PAD and a VALID convolution -- exactly what edgekit.convert makes of the
PyTorch model (``build_torch``), and what the Keras builder (``build_keras``, used for fast
latency datasets) reproduces.

``McuSpace.encode`` / ``decode`` map an architecture to integer choice indices and back (one
gene per decision), for samplers and evolutionary search.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from edgekit.core.errors import UsageError

STAGES = 4
KERNELS = (3, 5, 7)
EXPANSIONS = (1, 3, 6)
DEPTHS = (1, 2, 3)
WIDTHS = (0.5, 0.75, 1.0)
BASE_CHANNELS = (16, 24, 40, 64)     # stage output channels at width 1.0
STEM_CHANNELS = 16


def make_divisible(v: float, divisor: int = 8) -> int:
    return max(divisor, int(v + divisor / 2) // divisor * divisor)


@dataclass(frozen=True)
class StageSpec:
    kernel: int
    expansion: int
    depth: int
    width: float
    stride: int


@dataclass(frozen=True)
class ArchSpec:
    input_kind: str                 # "image" | "sensor"
    height: int                     # image height; sensor windows: 1 (1 x T layout) or T (T x 1)
    width: int                      # image width; sensor windows: T (1 x T) or 1 (T x 1)
    channels: int                   # image channels, or sensor axes
    num_classes: int
    stem_stride: int
    stages: tuple[StageSpec, ...]

    @property
    def input_shape_nhwc(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

    def stage_channels(self) -> list[int]:
        return [make_divisible(b * s.width) for b, s in zip(BASE_CHANNELS, self.stages)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> "ArchSpec":
        d = json.loads(text)
        d["stages"] = tuple(StageSpec(**s) for s in d["stages"])
        return ArchSpec(**d)

    @property
    def key(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def describe(self) -> str:
        st = " ".join(f"k{s.kernel}e{s.expansion}d{s.depth}w{s.width:g}" for s in self.stages)
        return f"{self.input_kind} {self.height}x{self.width}x{self.channels} -> {st} -> {self.num_classes}"


@dataclass(frozen=True)
class McuSpace:
    """Choices of one search space; ``resolutions`` are image sizes or window lengths."""

    input_kind: str = "image"
    resolutions: tuple[int, ...] = (16, 24, 32, 48, 64)
    channels: int = 3
    num_classes: int = 10
    kernels: tuple[int, ...] = KERNELS
    expansions: tuple[int, ...] = EXPANSIONS
    depths: tuple[int, ...] = DEPTHS
    widths: tuple[float, ...] = WIDTHS
    strides: tuple[int, ...] = (2, 2, 2, 1)
    layout: str = "1xT"          # sensor windows as 1 x T (N,C,1,T in PyTorch) or T x 1 (N,C,T,1)

    def __post_init__(self) -> None:
        if self.input_kind not in ("image", "sensor"):
            raise UsageError(f"unknown input kind {self.input_kind!r}", "use image or sensor")
        if self.layout not in ("1xT", "Tx1"):
            raise UsageError(f"unknown sensor layout {self.layout!r}", "use 1xT or Tx1")

    @staticmethod
    def sensor(window_lengths: tuple[int, ...] = (26, 52, 78, 104), axes: int = 3, num_classes: int = 3,
               layout: str = "1xT") -> "McuSpace":
        return McuSpace("sensor", window_lengths, axes, num_classes, layout=layout)

    @staticmethod
    def digits() -> "McuSpace":
        """sklearn's 8x8 digits: one resolution, one channel, 10 classes, fewer stride-2 stages."""
        return McuSpace("image", (8,), 1, 10, strides=(1, 2, 2, 1))

    def genes(self) -> list[int]:
        """Number of choices of each gene: resolution, then (kernel, expansion, depth, width) per stage."""
        per = [len(self.kernels), len(self.expansions), len(self.depths), len(self.widths)]
        return [len(self.resolutions)] + per * STAGES

    def decode(self, genes: np.ndarray | list[int]) -> ArchSpec:
        g = [int(x) for x in genes]
        if len(g) != len(self.genes()) or any(not 0 <= x < n for x, n in zip(g, self.genes())):
            raise UsageError(f"architecture genes {g} do not fit this space {self.genes()}")
        res = self.resolutions[g[0]]
        stages = []
        for i in range(STAGES):
            k, e, d, w = g[1 + 4 * i: 5 + 4 * i]
            stages.append(StageSpec(self.kernels[k], self.expansions[e], self.depths[d], self.widths[w], self.strides[i]))
        h, w = (res, res) if self.input_kind == "image" else ((1, res) if self.layout == "1xT" else (res, 1))
        stem_stride = 2 if res >= 32 else 1
        return ArchSpec(self.input_kind, h, w, self.channels, self.num_classes, stem_stride, tuple(stages))

    def encode(self, spec: ArchSpec) -> list[int]:
        try:
            g = [self.resolutions.index(max(spec.height, spec.width))]
            for s in spec.stages:
                g += [self.kernels.index(s.kernel), self.expansions.index(s.expansion), self.depths.index(s.depth),
                      self.widths.index(s.width)]
        except ValueError:
            raise UsageError(f"architecture {spec.describe()} is not in this space") from None
        return g

    def sample(self, rng: np.random.Generator) -> ArchSpec:
        return self.decode([int(rng.integers(n)) for n in self.genes()])


def sample_architectures(n: int, seed: int, spaces: tuple[McuSpace, ...] | None = None,
                         exclude: set[str] | frozenset[str] = frozenset()) -> list[ArchSpec]:
    """``n`` distinct architectures, spaces taken in turn; keys in ``exclude`` are never returned
    (the held-out set excludes the training set)."""
    spaces = spaces or (McuSpace(), McuSpace.sensor(), McuSpace(), McuSpace.sensor(layout="Tx1"))
    rng = np.random.default_rng(seed)
    out: list[ArchSpec] = []
    seen = set(exclude)
    tries = 0
    while len(out) < n:
        spec = spaces[len(out) % len(spaces)].sample(rng)
        tries += 1
        if tries > 100 * n:
            raise UsageError(f"could not draw {n} distinct architectures", "use a larger space")
        if spec.key not in seen:
            seen.add(spec.key)
            out.append(spec)
    return out


def layer_plan(spec: ArchSpec) -> list[dict[str, Any]]:
    """The network as a list of layers (framework-neutral): what both builders follow."""
    plan: list[dict[str, Any]] = [{"op": "conv", "cout": STEM_CHANNELS, "k": 3, "stride": spec.stem_stride}]
    cin = STEM_CHANNELS
    for s, cout in zip(spec.stages, spec.stage_channels()):
        for d in range(s.depth):
            stride = s.stride if d == 0 else 1
            plan.append({"op": "block", "cin": cin, "cout": cout, "k": s.kernel, "e": s.expansion, "stride": stride,
                         "residual": stride == 1 and cin == cout})
            cin = cout
    plan.append({"op": "head", "cin": cin, "classes": spec.num_classes})
    return plan
