"""Architectures of the MCU search space as int8 graphs, and their operators as LUT configurations.

``write_int8(spec)`` writes the int8 .tflite of an ``ArchSpec`` directly (milliseconds instead of
the converter's 5-15 s): the same operators, shapes and options the TFLite converter emits for
the Keras model of edgekit.predict.archbuild (tests compare them signature by signature).

``arch_start(n)`` enumerates the distinct operators of ``n`` sampled architectures as single-
operator configurations of the ordinary families: the part of the LUT that the search space
itself uses, so that a LUT sum finds most of an architecture's operators exactly. ``zoo_start``
does the same for the MLPerf Tiny reference models (when ../shared/assets is present).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekit.lut.archspace import ArchSpec, McuSpace, sample_architectures
from edgekit.lut.blocks import add_arch
from edgekit.lut.signatures import OpSig, graph_signatures
from edgekit.lut.space import Config
from edgekit.lut.writer import GraphWriter

LUT_SEED = 500   # architectures enumerated into the LUT (the training and held-out sets use other seeds)


def write_int8(spec: ArchSpec, seed: int = 0) -> bytes:
    w = GraphWriter(seed=seed, name=f"arch:{spec.key}")
    add_arch(w, spec)
    return w.finish()


def arch_models(n_archs: int, seed: int = LUT_SEED,
                spaces: tuple[McuSpace, ...] | None = None) -> list[tuple[Config, np.ndarray]]:
    """``n_archs`` sampled architectures as whole-model configurations (family ``arch``): on a
    device with per-layer timing each of their operators is measured in its real context (the
    code generator's memory plan decides, e.g., which layers run in place)."""
    return [(Config.make("arch", {"spec": s.to_json()}), np.zeros(0))
            for s in sample_architectures(n_archs, seed, spaces)]


def config_of(sig: OpSig) -> Config | None:
    """The single-operator configuration whose graph has exactly this signature (None for an
    operator the families cannot write, e.g. a depth multiplier above 1)."""
    s = sig.sig
    (h, w, c) = _hwc(s["in"][0])
    ho, wo, co = _hwc(s["out"][0])
    t = sig.kernel_type
    if t in ("conv", "conv1x1"):
        return Config.make(t, {"h": h, "w": w, "cin": c, "cout": co, "kh": s["k"][0], "kw": s["k"][1],
                               "sh": s["s"][0], "sw": s["s"][1], "act": s["act"], "padding": s["pad"]})
    if t == "dwconv":
        if s.get("mult", 1) != 1:
            return None
        return Config.make(t, {"h": h, "w": w, "c": c, "kh": s["k"][0], "kw": s["k"][1], "sh": s["s"][0],
                               "sw": s["s"][1], "act": s["act"], "padding": s["pad"]})
    if t == "fc" and len(s["in"][0]) == 1:
        return Config.make(t, {"cin": c, "cout": co, "act": s["act"]})
    if t == "add" and s.get("act") == "NONE" and s["in"][0] == s["in"][1]:
        return Config.make(t, {"h": h, "w": w, "c": c})
    if t == "mean" and s.get("axes") == [1, 2] and not s.get("keep"):
        return Config.make(t, {"h": h, "w": w, "c": c})
    if t == "pad" and len(s["in"][0]) == 3:
        p = s["pads"]
        return Config.make(t, {"h": h, "w": w, "c": c, "pt": p[1][0], "pb": p[1][1], "pl": p[2][0], "pr": p[2][1]})
    if t in ("avgpool", "maxpool") and s.get("act") == "NONE" and len(s["in"][0]) == 3:
        return Config.make(t, {"h": h, "w": w, "c": c, "kh": s["k"][0], "kw": s["k"][1], "sh": s["s"][0],
                               "sw": s["s"][1], "padding": s["pad"]})
    if t == "reshape" and len(s["in"][0]) == 3 and s["out"][0] == [h * w * c]:
        return Config.make(t, {"h": h, "w": w, "c": c})
    if t == "softmax" and len(s["in"][0]) == 1 and s.get("beta") == 1.0:
        return Config.make(t, {"n": c})
    return None


def _hwc(shape: list[int]) -> tuple[int, int, int]:
    if len(shape) == 3:
        return shape[0], shape[1], shape[2]
    return 1, 1, shape[-1]


def arch_start(n_archs: int, seed: int = LUT_SEED,
               spaces: tuple[McuSpace, ...] | None = None) -> list[tuple[Config, np.ndarray]]:
    """Distinct single-operator configurations of ``n_archs`` sampled architectures. They carry no
    unit-cube point (an empty ``u``): refinement does not perturb them."""
    from edgekit.tflite.reader import read_tflite_bytes

    out: dict[str, Config] = {}
    for spec in sample_architectures(n_archs, seed, spaces):
        for sig in graph_signatures(read_tflite_bytes(write_int8(spec), spec.key)):
            cfg = config_of(sig)
            if cfg is not None:
                out.setdefault(cfg.key, cfg)
    return [(c, np.zeros(0)) for c in out.values()]


# MLPerf Tiny reference models (../shared/assets/models/mlperf_tiny) whose operators the LUT measures
ZOO = ("kws_ref_model_int8", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "str_ww_ref_model")


def zoo_start(assets: Path | None = None) -> list[tuple[Config, np.ndarray]]:
    """Distinct single-operator configurations of the zoo's reference models that are present."""
    from edgekit.core.assets import assets_dir
    from edgekit.tflite.reader import read_tflite

    root = (assets or assets_dir()) / "models" / "mlperf_tiny"
    out: dict[str, Config] = {}
    for name in ZOO:
        path = root / f"{name}.tflite"
        if not path.is_file():
            continue
        for sig in graph_signatures(read_tflite(path)):
            cfg = config_of(sig)
            if cfg is not None:
                out.setdefault(cfg.key, cfg)
    return [(c, np.zeros(0)) for c in out.values()]
