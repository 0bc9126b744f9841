"""What the lookup table measures: operator and block families and their configuration spaces
(the graphs themselves are written by edgekit.lut.blocks).

A *configuration* is a family name plus integer/string parameters (``Config``); its key is the
sha256 of that JSON, so the same configuration always has the same key, model bytes and LUT rows.
Configurations are drawn from the unit cube: a family maps a point ``u`` in [0, 1)^d to
parameters, so a space-filling design (scrambled Sobol) covers each family evenly, and adaptive
refinement perturbs the ``u`` of badly predicted samples to measure their neighbourhood.

The ranges cover the MCU inverted-residual search space (edgekit.lut.archspace: 2-D images
up to 64x64 and 1-D sensor windows up to 128 samples, as H=1 convolutions), the MLPerf Tiny
networks, and the PyTorch conversion path (explicit PAD before stride-2 VALID convolutions).

Variants: a family realises one or more graphs per configuration. Pair families (fusion tests)
realise the pair itself and each of its two operators alone; everything else realises one.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from edgekit.core.errors import UsageError
from edgekit.lut.blocks import build_arch, build_block, build_chain, build_pair, build_single, kernel_for
from edgekit.lut.writer import GraphWriter

ACTS = ("NONE", "RELU", "RELU6")


@dataclass(frozen=True)
class Config:
    family: str
    params: tuple[tuple[str, Any], ...]

    @staticmethod
    def make(family: str, params: dict[str, Any]) -> "Config":
        return Config(family, tuple(sorted(params.items())))

    @property
    def p(self) -> dict[str, Any]:
        return dict(self.params)

    def to_json(self) -> str:
        return json.dumps({"family": self.family, "params": self.p}, sort_keys=True, separators=(",", ":"))

    @property
    def key(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @staticmethod
    def from_json(text: str) -> "Config":
        d = json.loads(text)
        return Config.make(d["family"], d["params"])


# -- unit-cube coordinates -> values ----------------------------------------------------------
def log_int(u: float, low: int, high: int) -> int:
    """Log-uniform integer in [low, high]."""
    v = math.exp(math.log(low) + u * (math.log(high + 1) - math.log(low)))
    return int(min(high, max(low, math.floor(v))))


def pick(u: float, choices: tuple[Any, ...]) -> Any:
    return choices[min(len(choices) - 1, int(u * len(choices)))]


def _layout(u: float, size_u: float, low2d: int, high2d: int, low1d: int, high1d: int) -> tuple[int, int]:
    """(h, w): square images for u < 0.6, else 1-D sequences laid out as 1 x T (u < 0.8) or as
    T x 1 (both layouts occur: PyTorch Conv1d exported as N,C,1,T or as N,C,T,1)."""
    if u < 0.6:
        s = log_int(size_u, low2d, high2d)
        return s, s
    t = log_int(size_u, low1d, high1d)
    return (1, t) if u < 0.8 else (t, 1)


def _fit_valid(h: int, w: int, kh: int, kw: int) -> tuple[int, int]:
    return (max(h, kh), max(w, kw))


def _cap(h: int, w: int, work_per_pixel: int, cap: int, min_h: int = 1, min_w: int = 1) -> tuple[int, int]:
    """Shrink the spatial size until pixels x work <= cap multiply-accumulates: the sweep stays
    within what a microcontroller runs (and an emulator times) in about a second."""
    while h * w * work_per_pixel > cap and (h > min_h or w > min_w):
        if h > min_h and h >= w:
            h = max(min_h, int(h * 0.85))
        else:
            w = max(min_w, int(w * 0.85))
    return h, w


# -- families -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Family:
    name: str
    dims: int
    weight: float                                   # share of the space-filling start
    params: Callable[[np.ndarray], dict[str, Any]]  # u -> parameters
    variants: tuple[str, ...]
    build: Callable[[GraphWriter, dict[str, Any], str], None]   # adds one variant's inputs/ops/outputs


def _conv_params(u: np.ndarray) -> dict[str, Any]:
    h, w = _layout(u[0], u[1], 4, 64, 8, 128)
    k, s = pick(u[4], (3, 5, 7)), pick(u[5], (1, 2))
    padding = pick(u[7], ("SAME", "SAME", "VALID"))
    (kh, kw), (sh, sw) = kernel_for(h, k, s, w)
    cin, cout = log_int(u[2], 1, 96), log_int(u[3], 4, 160)
    h, w = _cap(h, w, kh * kw * cin * cout // (sh * sw), 12_000_000, kh, kw)
    if padding == "VALID":
        h, w = _fit_valid(h, w, kh, kw)
    return {"h": h, "w": w, "cin": cin, "cout": cout, "kh": kh, "kw": kw,
            "sh": sh, "sw": sw, "act": pick(u[6], ACTS), "padding": padding}


def _conv1x1_params(u: np.ndarray) -> dict[str, Any]:
    h, w = _layout(u[0], u[1], 1, 64, 4, 128)
    cin, cout = log_int(u[2], 3, 384), log_int(u[3], 4, 384)
    h, w = _cap(h, w, cin * cout, 6_000_000)
    return {"h": h, "w": w, "cin": cin, "cout": cout, "kh": 1, "kw": 1,
            "sh": 1, "sw": 1, "act": pick(u[4], ACTS), "padding": "SAME"}


def _dw_params(u: np.ndarray) -> dict[str, Any]:
    h, w = _layout(u[0], u[1], 2, 64, 4, 128)
    k, s = pick(u[3], (3, 5, 7)), pick(u[4], (1, 2))
    padding = pick(u[6], ("SAME", "SAME", "VALID"))
    (kh, kw), (sh, sw) = kernel_for(h, k, s, w)
    c = log_int(u[2], 4, 384)
    h, w = _cap(h, w, kh * kw * c // (sh * sw), 2_000_000, kh, kw)
    if padding == "VALID":
        h, w = _fit_valid(h, w, kh, kw)
    return {"h": h, "w": w, "c": c, "kh": kh, "kw": kw, "sh": sh, "sw": sw,
            "act": pick(u[5], ACTS), "padding": padding}


def _fc_params(u: np.ndarray) -> dict[str, Any]:
    return {"cin": log_int(u[0], 8, 2048), "cout": log_int(u[1], 2, 256), "act": pick(u[2], ("NONE", "RELU"))}


def _pool_params(u: np.ndarray) -> dict[str, Any]:
    h, w = _layout(u[0], u[1], 2, 48, 4, 128)
    c = log_int(u[2], 4, 256)
    if u[5] < 0.3:   # global pooling (MLPerf networks end with one)
        return {"h": h, "w": w, "c": c, "kh": h, "kw": w, "sh": 1, "sw": 1, "padding": "VALID"}
    k, s = pick(u[3], (2, 3)), pick(u[4], (1, 2))
    (kh, kw), (sh, sw) = kernel_for(h, k, s, w)
    h, w = _fit_valid(h, w, kh, kw)
    return {"h": h, "w": w, "c": c, "kh": kh, "kw": kw, "sh": sh, "sw": sw, "padding": "VALID"}


def _eltwise_params(u: np.ndarray) -> dict[str, Any]:
    h, w = _layout(u[0], u[1], 1, 64, 4, 128)
    return {"h": h, "w": w, "c": log_int(u[2], 4, 384)}


def _pad_params(u: np.ndarray) -> dict[str, Any]:
    h, w = _layout(u[0], u[1], 2, 64, 4, 128)
    p = pick(u[3], (1, 2, 3))
    ph, pw = (0 if h == 1 else p), (0 if w == 1 and h > 1 else p)
    return {"h": h, "w": w, "c": log_int(u[2], 1, 384), "pt": ph, "pb": ph, "pl": pw, "pr": pw}


def _reshape_params(u: np.ndarray) -> dict[str, Any]:
    h, w = _layout(u[0], u[1], 1, 16, 1, 64)
    return {"h": h, "w": w, "c": log_int(u[2], 2, 512)}


def _softmax_params(u: np.ndarray) -> dict[str, Any]:
    return {"n": log_int(u[0], 2, 320)}   # TFLite Micro aborts on int8 softmax past ~500 classes


def _block_params(u: np.ndarray) -> dict[str, Any]:
    h, w = _layout(u[0], u[1], 2, 64, 4, 128)
    cin = log_int(u[2], 8, 96)
    k, e = pick(u[4], (3, 5, 7)), pick(u[5], (1, 3, 6))
    residual = u[6] < 0.5
    s = 1 if residual else pick(u[7], (1, 2))
    cout = cin if residual else log_int(u[3], 8, 96)
    h, w = _cap(h, w, cin * e * (cin + cout + k * k), 12_000_000, k if h > 1 else 1, k if w > 1 else 1)
    return {"h": h, "w": w, "cin": cin, "cout": cout, "k": k, "e": e, "s": s, "residual": bool(residual)}


def _pair_params(u: np.ndarray) -> dict[str, Any]:
    kind = pick(u[0], ("pad_conv", "pad_dwconv", "conv_add", "dw_pw", "pw_dw", "mean_fc", "fc_softmax"))
    h, w = _layout(u[1], u[2], 4, 48, 8, 128)
    c, cout, k = log_int(u[3], 4, 192), log_int(u[4], 4, 128), pick(u[5], (3, 5, 7))
    h, w = _cap(h, w, c * cout * k * k, 12_000_000, k if h > 1 else 1, k if w > 1 else 1)
    return {"kind": kind, "h": h, "w": w, "c": c, "cout": cout, "k": k, "act": pick(u[6], ACTS)}


def _chain_params(u: np.ndarray) -> dict[str, Any]:
    return {"n": pick(u[0], (1, 2, 3, 4, 6, 8))}


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("conv", 8, 0.14, _conv_params, ("op",), lambda w, p, v: build_single(w, p, "conv")),
    Family("conv1x1", 5, 0.17, _conv1x1_params, ("op",), lambda w, p, v: build_single(w, p, "conv1x1")),
    Family("dwconv", 7, 0.17, _dw_params, ("op",), lambda w, p, v: build_single(w, p, "dwconv")),
    Family("fc", 3, 0.06, _fc_params, ("op",), lambda w, p, v: build_single(w, p, "fc")),
    Family("avgpool", 6, 0.03, _pool_params, ("op",), lambda w, p, v: build_single(w, p, "avgpool")),
    Family("maxpool", 6, 0.02, _pool_params, ("op",), lambda w, p, v: build_single(w, p, "maxpool")),
    Family("add", 3, 0.05, _eltwise_params, ("op",), lambda w, p, v: build_single(w, p, "add")),
    Family("mean", 3, 0.04, _eltwise_params, ("op",), lambda w, p, v: build_single(w, p, "mean")),
    Family("pad", 4, 0.05, _pad_params, ("op",), lambda w, p, v: build_single(w, p, "pad")),
    Family("reshape", 3, 0.02, _reshape_params, ("op",), lambda w, p, v: build_single(w, p, "reshape")),
    Family("softmax", 1, 0.02, _softmax_params, ("op",), lambda w, p, v: build_single(w, p, "softmax")),
    Family("block", 8, 0.10, _block_params, ("block",), build_block),
    Family("pair", 7, 0.10, _pair_params, ("pair", "a", "b"), build_pair),
    Family("chain", 1, 0.03, _chain_params, ("chain",), build_chain),
    # whole search-space architectures (edgekit.lut.archgraph.arch_models), not drawn from the cube
    Family("arch", 0, 0.0, lambda u: {}, ("model",), build_arch),
)}
# families whose variants are single operators: their rows train the per-kernel models
OP_FAMILIES = tuple(n for n, f in FAMILIES.items() if f.variants == ("op",))


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise UsageError(f"unknown LUT family {name!r}", f"known: {', '.join(FAMILIES)}") from None


def config_from_unit(name: str, u: np.ndarray) -> Config:
    f = family(name)
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0 - 1e-9)
    if u.size != f.dims:
        raise UsageError(f"family {name} takes {f.dims} coordinates, got {u.size}")
    return Config.make(name, f.params(u))


def variant_bytes(config: Config, variant: str, seed: int | None = None) -> bytes:
    """The .tflite of one variant of a configuration on its own (the Linux path: one model each)."""
    w = GraphWriter(seed=int(config.key[:8], 16) if seed is None else seed, name=f"lut:{config.family}:{variant}")
    family(config.family).build(w, config.p, variant)
    return w.finish()


def sobol_start(total: int, seed: int = 0, families: tuple[str, ...] | None = None) -> list[tuple[Config, np.ndarray]]:
    """The space-filling start: ``total`` configurations shared among families by weight, each
    family's points from its own scrambled Sobol sequence. Duplicates (small discrete families)
    are dropped."""
    import warnings

    from scipy.stats import qmc

    names = tuple(n for n in (families or tuple(FAMILIES)) if FAMILIES[n].dims > 0)
    weights = np.array([FAMILIES[n].weight for n in names])
    counts = np.maximum(2, np.round(total * weights / weights.sum())).astype(int)
    out: list[tuple[Config, np.ndarray]] = []
    seen: set[str] = set()
    for i, (name, n) in enumerate(zip(names, counts)):
        f = FAMILIES[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # Sobol balance warning for n not a power of two
            pts = qmc.Sobol(d=f.dims, scramble=True, seed=seed * 1000 + i).random(int(n))
        for u in pts:
            cfg = config_from_unit(name, u)
            if cfg.key not in seen:
                seen.add(cfg.key)
                out.append((cfg, u))
    return out


def neighbours(name: str, u: np.ndarray, n: int, rng: np.random.Generator, scale: float = 0.06) -> list[tuple[Config, np.ndarray]]:
    """``n`` configurations around ``u`` (Gaussian steps in the unit cube): adaptive refinement."""
    out = []
    for _ in range(n):
        v = np.clip(np.asarray(u) + rng.normal(0.0, scale, size=len(u)), 0.0, 1.0 - 1e-9)
        out.append((config_from_unit(name, v), v))
    return out
