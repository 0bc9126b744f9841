"""MCU-class inverted-residual search space (MobileNetV2 blocks, as in MCUNet / Once-for-All).

An architecture is: an input resolution (window length for 1-D sensor data, image side for 2-D
images), then per stage a depth (blocks), a width multiplier (output channels), and per block a
kernel size and an expansion ratio. Expansion 1 means no expansion convolution (MobileNetV2's t=1).
The first block of a stage applies the stage's stride; the other blocks are residual.

1-D inputs are laid out as (N, C, T, 1) and convolved with (k, 1) kernels: the int8 graph then
uses the CONV_2D / DEPTHWISE_CONV_2D kernels every MCU runtime has, with no reshapes.

The genome (for pymoo) is a fixed-length vector of choice indices: [resolution] + per stage
[depth, width] + per block slot [kernel, expansion]. Genes of blocks beyond a stage's depth do not
matter; ``canonical`` sets them to 0 so that one architecture has one genome and one key.

This module imports no framework so that the latency predictors can read the space. The cost
terms (MACs, output elements per operator kind) are computed as expectations over per-decision
probability vectors: one-hot vectors give the exact figures of one architecture, soft vectors the
exact expectation under independent choices (what the differentiable strategy needs).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from edgekit.core.errors import UsageError

DIMS = ("1d", "2d")
# Operator kinds of the int8 graph and their cost terms: (work, elements, pixels, count); None =
# unused. work is MACs (taps x outputs for pooling), elements are outputs (inputs for MEAN), pixels
# are output positions (elements / channels: kernels loop over pixels, then channels).
KINDS: dict[str, tuple[str | None, str | None, str | None, str]] = {
    "conv": ("conv_macs", "conv_out", "conv_pix", "conv_n"),     # CONV_2D with a k x k filter, k > 1
    "pw": ("pw_macs", "pw_out", "pw_pix", "pw_n"),               # CONV_2D 1x1
    "dw": ("dw_macs", "dw_out", "dw_pix", "dw_n"),               # DEPTHWISE_CONV_2D
    "add": (None, "add_elems", None, "add_n"),                   # ADD
    "mean": (None, "mean_elems", None, "mean_n"),                # MEAN (global average pooling)
    "avgpool": ("avgpool_taps", "avgpool_out", None, "avgpool_n"),   # AVERAGE_POOL_2D
    "act": (None, "act_elems", None, "act_n"),                   # RELU, RELU6 (not fused into a convolution)
    "fc": ("fc_macs", None, None, "fc_n"),                       # FULLY_CONNECTED
}
FEATURES = tuple(name for terms in KINDS.values() for name in terms if name)
COUNTS = tuple(terms[3] for terms in KINDS.values())


def make_divisible(value: float, divisor: int) -> int:
    return max(divisor, int(round(value / divisor)) * divisor)


def same_out(size: int, stride: int) -> int:
    return math.ceil(size / stride)


def input_shape(dims: str, in_channels: int, resolution: int) -> tuple[int, int, int, int]:
    """A space's model input, batch 1, NCHW: a 1-D window of ``resolution`` samples is T x 1."""
    if dims == "1d":
        return (1, in_channels, resolution, 1)
    return (1, in_channels, resolution, resolution)


def kernel_shape(dims: str, k: int) -> tuple[int, int]:
    return (k, 1) if dims == "1d" else (k, k)


@dataclass(frozen=True)
class StageArch:
    depth: int
    width: float
    kernels: tuple[int, ...]      # one per block (len == depth)
    expansions: tuple[int, ...]


@dataclass(frozen=True)
class IRArch:
    resolution: int
    stages: tuple[StageArch, ...]

    def to_json(self) -> dict[str, Any]:
        return {"resolution": self.resolution,
                "stages": [{"depth": s.depth, "width": s.width, "kernels": list(s.kernels),
                            "expansions": list(s.expansions)} for s in self.stages]}

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> "IRArch":
        return IRArch(int(d["resolution"]), tuple(
            StageArch(int(s["depth"]), float(s["width"]), tuple(int(k) for k in s["kernels"]),
                      tuple(int(e) for e in s["expansions"])) for s in d["stages"]))

    def label(self) -> str:
        """Readable: r52|d2w1.0:k3e6,k5e1|... (resolution, then stage by stage)."""
        parts = [f"r{self.resolution}"]
        for s in self.stages:
            blocks = ",".join(f"k{k}e{e}" for k, e in zip(s.kernels, s.expansions))
            parts.append(f"d{s.depth}w{s.width:g}:{blocks}")
        return "|".join(parts)

    @property
    def key(self) -> str:
        blob = json.dumps(self.to_json(), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class IRSpace:
    name: str
    dims: str                          # "1d" (N, C, T, 1) or "2d" (N, C, H, W)
    in_channels: int
    num_classes: int
    resolutions: tuple[int, ...]       # window length (1d) or square image side (2d)
    stem_channels: int
    stem_stride: int
    stage_channels: tuple[int, ...]    # output channels at width 1.0
    stage_strides: tuple[int, ...]
    depths: tuple[int, ...]
    widths: tuple[float, ...]
    kernels: tuple[int, ...]
    expansions: tuple[int, ...]
    stem_kernel: int = 3
    channel_divisor: int = 4
    kind: str = "mcu-ir"

    def __post_init__(self) -> None:
        if self.dims not in DIMS:
            raise UsageError(f"space dims {self.dims!r} is not one of {', '.join(DIMS)}")
        if len(self.stage_channels) != len(self.stage_strides) or not self.stage_channels:
            raise UsageError("stage_channels and stage_strides must have the same, non-zero length")
        for name in ("resolutions", "depths", "widths", "kernels", "expansions"):
            values = getattr(self, name)
            if not values or list(values) != sorted(set(values)):
                raise UsageError(f"space {name} must be a non-empty increasing tuple, got {values}")
        if min(self.depths) < 1 or any(k % 2 == 0 for k in self.kernels):
            raise UsageError("depths must be >= 1 and kernels odd")
        if min(self.expansions) < 1:
            raise UsageError("expansions must be >= 1")

    # -- serialisation ----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> "IRSpace":
        tuples = {k: tuple(v) for k, v in d.items() if isinstance(v, list)}
        return IRSpace(**{**d, **tuples})

    # -- shapes -----------------------------------------------------------------------------
    @property
    def max_depth(self) -> int:
        return max(self.depths)

    @property
    def n_stages(self) -> int:
        return len(self.stage_channels)

    def channels(self, stage: int, width: float) -> int:
        return make_divisible(self.stage_channels[stage] * width, self.channel_divisor)

    def max_channels(self, stage: int) -> int:
        return self.channels(stage, max(self.widths))

    def input_shape(self, resolution: int) -> tuple[int, int, int, int]:
        return input_shape(self.dims, self.in_channels, resolution)

    def kernel_shape(self, k: int) -> tuple[int, int]:
        return kernel_shape(self.dims, k)

    def sizes(self, resolution: int) -> list[int]:
        """Spatial length/side after the stem and after each stage."""
        out = [same_out(resolution, self.stem_stride)]
        for s in self.stage_strides:
            out.append(same_out(out[-1], s))
        return out

    def area(self, side: int) -> int:
        return side if self.dims == "1d" else side * side

    # -- genome -----------------------------------------------------------------------------
    def gene_choices(self) -> list[tuple[str, tuple]]:
        genes: list[tuple[str, tuple]] = [("resolution", self.resolutions)]
        for s in range(self.n_stages):
            genes += [(f"s{s}.depth", self.depths), (f"s{s}.width", self.widths)]
            for b in range(self.max_depth):
                genes += [(f"s{s}.b{b}.kernel", self.kernels), (f"s{s}.b{b}.expansion", self.expansions)]
        return genes

    @property
    def n_genes(self) -> int:
        return len(self.gene_choices())

    def upper_bounds(self) -> np.ndarray:
        return np.array([len(c) - 1 for _, c in self.gene_choices()], dtype=int)

    def decode(self, genes: Sequence[int]) -> IRArch:
        g = [int(x) for x in genes]
        if len(g) != self.n_genes:
            raise UsageError(f"genome has {len(g)} genes, the space {self.name} has {self.n_genes}")
        ub = self.upper_bounds()
        if any(x < 0 or x > u for x, u in zip(g, ub)):
            raise UsageError(f"genome {g} is outside the space's choice ranges")
        res, i, stages = self.resolutions[g[0]], 1, []
        for _ in range(self.n_stages):
            depth, width = self.depths[g[i]], self.widths[g[i + 1]]
            i += 2
            ks = tuple(self.kernels[g[i + 2 * b]] for b in range(depth))
            es = tuple(self.expansions[g[i + 2 * b + 1]] for b in range(depth))
            i += 2 * self.max_depth
            stages.append(StageArch(depth, width, ks, es))
        return IRArch(res, tuple(stages))

    def encode(self, arch: IRArch) -> tuple[int, ...]:
        self.check(arch)
        g = [self.resolutions.index(arch.resolution)]
        for st in arch.stages:
            g += [self.depths.index(st.depth), self.widths.index(st.width)]
            for b in range(self.max_depth):
                if b < st.depth:
                    g += [self.kernels.index(st.kernels[b]), self.expansions.index(st.expansions[b])]
                else:
                    g += [0, 0]
        return tuple(g)

    def canonical(self, genes: Sequence[int]) -> tuple[int, ...]:
        return self.encode(self.decode(genes))

    def check(self, arch: IRArch) -> None:
        def bad(what: str) -> UsageError:
            return UsageError(f"architecture {arch.label()} is not in space {self.name}: {what}",
                              "decode it from this space's genome or fix the architecture file")
        if arch.resolution not in self.resolutions:
            raise bad(f"resolution {arch.resolution}")
        if len(arch.stages) != self.n_stages:
            raise bad(f"{len(arch.stages)} stages, expected {self.n_stages}")
        for st in arch.stages:
            if st.depth not in self.depths or st.width not in self.widths:
                raise bad(f"depth {st.depth} / width {st.width}")
            if len(st.kernels) != st.depth or len(st.expansions) != st.depth:
                raise bad("one kernel and one expansion per block")
            if any(k not in self.kernels for k in st.kernels) or any(e not in self.expansions for e in st.expansions):
                raise bad(f"kernels {st.kernels} / expansions {st.expansions}")

    def smallest(self) -> IRArch:
        return self.decode([0] * self.n_genes)

    def largest(self) -> IRArch:
        return self.decode(self.upper_bounds())

    def sample(self, rng: np.random.Generator) -> IRArch:
        return self.decode([int(rng.integers(0, u + 1)) for u in self.upper_bounds()])

    # -- costs --------------------------------------------------------------------------------
    def one_hot(self, arch: IRArch) -> dict[str, np.ndarray]:
        """Per-decision one-hot vectors (the form ``cost_terms`` takes)."""
        out = {}
        for (name, choices), g in zip(self.gene_choices(), self.encode(arch)):
            v = np.zeros(len(choices))
            v[g] = 1.0
            out[name] = v
        return out

    def cost_terms(self, probs: Mapping[str, Any]) -> dict[str, Any]:
        """Expected cost terms under independent categorical decisions (numpy or torch vectors).

        Every term is a sum over layers of products of functions of *distinct* decisions (a
        stage's width appears squared only through its second moment), so the expectation is exact.
        """
        def ex(name: str, values: Sequence[float]) -> Any:
            p = probs[name]
            if hasattr(p, "new_tensor"):
                return (p * p.new_tensor([float(v) for v in values])).sum()
            return float(np.dot(p, np.asarray(values, dtype=np.float64)))

        k_exp = 1 if self.dims == "1d" else 2            # taps per output: k or k*k
        stem_c = self.stem_channels
        t = {f: 0.0 for f in FEATURES}
        # spatial areas per resolution, for the stem output and each stage's output
        per_res = [[self.area(s) for s in self.sizes(r)] for r in self.resolutions]
        area = [ex("resolution", [a[i] for a in per_res]) for i in range(self.n_stages + 1)]
        t["conv_macs"] = area[0] * stem_c * self.in_channels * self.stem_kernel ** k_exp
        t["conv_out"] = area[0] * stem_c
        t["conv_pix"] = area[0]
        t["conv_n"] = 1.0
        prev_c1, prev_c2 = float(stem_c), float(stem_c * stem_c)   # E[c_in], E[c_in^2]
        for s in range(self.n_stages):
            cs = [self.channels(s, w) for w in self.widths]
            c1, c2 = ex(f"s{s}.width", cs), ex(f"s{s}.width", [c * c for c in cs])
            a_in, a_out = area[s], area[s + 1]
            for b in range(self.max_depth):
                active = 1.0 if b == 0 else ex(f"s{s}.depth", [1.0 if d > b else 0.0 for d in self.depths])
                en, kn = f"s{s}.b{b}.expansion", f"s{s}.b{b}.kernel"
                e_mean = ex(en, self.expansions)
                e_expand = ex(en, [e if e > 1 else 0 for e in self.expansions])     # E[e * 1(e>1)]
                has_expand = ex(en, [1.0 if e > 1 else 0.0 for e in self.expansions])
                taps = ex(kn, [k ** k_exp for k in self.kernels])
                ain = a_in if b == 0 else a_out
                cin1, cin2 = (prev_c1, prev_c2) if b == 0 else (c1, c2)
                hidden = cin1 * e_mean
                t["pw_macs"] = t["pw_macs"] + active * ain * cin2 * e_expand
                t["pw_out"] = t["pw_out"] + active * ain * cin1 * e_expand
                t["dw_macs"] = t["dw_macs"] + active * a_out * hidden * taps
                t["dw_out"] = t["dw_out"] + active * a_out * hidden
                proj = (prev_c1 * c1 if b == 0 else c2) * e_mean
                t["pw_macs"] = t["pw_macs"] + active * a_out * proj
                t["pw_out"] = t["pw_out"] + active * a_out * c1
                t["pw_pix"] = t["pw_pix"] + active * (ain * has_expand + a_out)
                t["dw_pix"] = t["dw_pix"] + active * a_out
                t["pw_n"] = t["pw_n"] + active * (1.0 + has_expand)
                t["dw_n"] = t["dw_n"] + active
                if b > 0:
                    t["add_elems"] = t["add_elems"] + active * a_out * c1
                    t["add_n"] = t["add_n"] + active
            prev_c1, prev_c2 = c1, c2
        t["mean_elems"] = area[-1] * prev_c1
        t["mean_n"] = 1.0
        t["fc_macs"] = prev_c1 * self.num_classes
        t["fc_n"] = 1.0
        return t

    def features(self, arch: IRArch) -> dict[str, float]:
        return {k: float(v) for k, v in self.cost_terms(self.one_hot(arch)).items()}

    def memory_estimate(self, arch: IRArch) -> dict[str, int]:
        """int8 weight bytes (+ int32 bias and per-channel requantisation data) and an arena
        estimate (largest input + output of a layer, plus the block input kept for the residual)."""
        kk = 1 if self.dims == "1d" else 2
        sizes = self.sizes(arch.resolution)
        weights = 0
        peak = self.area(arch.resolution) * self.in_channels + self.area(sizes[0]) * self.stem_channels

        def conv(cin: int, cout: int, taps: int, depthwise: bool = False) -> int:
            return (cout * taps if depthwise else cin * cout * taps) + 12 * cout

        weights += conv(self.in_channels, self.stem_channels, self.stem_kernel ** kk)
        cin = self.stem_channels
        for s, st in enumerate(arch.stages):
            cout = self.channels(s, st.width)
            for b, (k, e) in enumerate(zip(st.kernels, st.expansions)):
                a_in = self.area(sizes[s] if b == 0 else sizes[s + 1])
                a_out = self.area(sizes[s + 1])
                c = cin if b == 0 else cout
                hidden = c * e
                keep = a_in * c if b > 0 else 0
                if e > 1:
                    weights += conv(c, hidden, 1)
                    peak = max(peak, a_in * c + a_in * hidden)
                weights += conv(hidden, hidden, k ** kk, depthwise=True)
                weights += conv(hidden, cout, 1)
                peak = max(peak, keep + a_in * hidden + a_out * hidden, keep + a_out * hidden + a_out * cout)
            cin = cout
        weights += cin * self.num_classes + 4 * self.num_classes
        return {"weights_bytes": weights, "arena_bytes": peak}


# -- presets ------------------------------------------------------------------------------------
PRESETS = ("mcu-ir", "mcu-ir-tiny")


def preset_space(preset: str, dims: str, in_channels: int, num_classes: int,
                 native_resolution: int, resolutions: tuple[int, ...] | None = None) -> IRSpace:
    """The default spaces. ``resolutions`` overrides the preset's (data sets with one native size)."""
    if preset == "mcu-ir":
        if dims == "1d":
            res = resolutions or (26, 39, 52)
            return IRSpace("mcu-ir-1d", dims, in_channels, num_classes, res, stem_channels=8, stem_stride=2,
                           stage_channels=(8, 16, 24), stage_strides=(1, 2, 2), depths=(1, 2, 3),
                           widths=(0.5, 0.75, 1.0), kernels=(3, 5, 7), expansions=(1, 3, 6))
        res = resolutions or (8, 12, 16)
        return IRSpace("mcu-ir-2d", dims, in_channels, num_classes, res, stem_channels=8, stem_stride=1,
                       stage_channels=(8, 16, 24), stage_strides=(1, 2, 2), depths=(1, 2, 3),
                       widths=(0.5, 0.75, 1.0), kernels=(3, 5, 7), expansions=(1, 3, 6))
    if preset == "mcu-ir-tiny":
        res = resolutions or ((native_resolution,))
        return IRSpace(f"mcu-ir-tiny-{dims}", dims, in_channels, num_classes, res, stem_channels=8,
                       stem_stride=2 if dims == "1d" else 1, stage_channels=(8, 16), stage_strides=(1, 2),
                       depths=(1, 2), widths=(0.5, 1.0), kernels=(3, 5), expansions=(1, 3))
    raise UsageError(f"unknown space preset {preset!r}", f"use one of: {', '.join(PRESETS)}, nb201")
