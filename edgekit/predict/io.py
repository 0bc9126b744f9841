"""Save and load a predictor: LightGBM text files plus JSON metadata, never pickles.

Layout of a predictor directory::

    predictor.json          device id, figure and unit, provenance (LUT and whole-model trace ids),
                            versions, fixed cost, fusion rules, linear coefficients, FLOPs baseline,
                            correction quantiles, and the list of booster files
    lut.json                the LUT-sum table (signature -> net figure, features)
    kernel-<type>-<k>.txt   per-kernel LightGBM boosters
    correction-<k>.txt      whole-model correction boosters
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from edgekit.core.artifact import atomic_write_text
from edgekit.core.errors import InputFileError
from edgekit.lut.fusion import FusionRule
from edgekit.lut.overhead import Overhead
from edgekit.lut.signatures import FEATURES
from edgekit.predict.gbm import KernelModel, KernelModels
from edgekit.predict.lut_sum import LutSum
from edgekit.predict.predictor import Predictor
from edgekit.predict.whole_model import Correction

FORMAT = 1


def default_predictor_dir(lut_root: Path, device_id: str) -> Path:
    return lut_root / device_id / "predictor"


def save_predictor(pred: Predictor, directory: str | os.PathLike[str]) -> Path:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    for old in list(d.glob("kernel-*.txt")) + list(d.glob("correction-*.txt")):
        old.unlink()
    kernels = {}
    for t, m in sorted(pred.kernels.models.items()):
        files = []
        for k, b in enumerate(m.boosters):
            name = f"kernel-{t}-{k}.txt"
            atomic_write_text(d / name, b.model_to_string())
            files.append(name)
        kernels[t] = {"coef": m.coef.tolist(), "floor": m.floor, "n_train": m.n_train, "rounds": m.rounds,
                      "boosters": files}
    corr = []
    for k, b in enumerate(pred.correction.boosters):
        name = f"correction-{k}.txt"
        atomic_write_text(d / name, b.model_to_string())
        corr.append(name)
    doc = {"format": FORMAT, "meta": pred.meta, "overhead": pred.overhead.to_json(),
           "fusion": {k: r.to_json() for k, r in pred.rules.items()}, "kernels": kernels,
           "correction": {"boosters": corr, "q_lo": pred.correction.q_lo, "q_hi": pred.correction.q_hi,
                          "n_train": pred.correction.n_train, "rounds": pred.correction.rounds},
           "flops": list(pred.flops) if pred.flops is not None else None}
    atomic_write_text(d / "lut.json", json.dumps(pred.lut.to_json()))
    atomic_write_text(d / "predictor.json", json.dumps(doc, indent=1, sort_keys=True, default=_plain))
    return d


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"{type(v).__name__} is not JSON")


def load_predictor(directory: str | os.PathLike[str]) -> Predictor:
    import lightgbm as lgb

    d = Path(directory)
    meta_path = d / "predictor.json"
    if not meta_path.is_file():
        raise InputFileError(f"no predictor in {d} (predictor.json missing)",
                             "run `edgekit predictor train --device ID` first")
    try:
        doc = json.loads(meta_path.read_text())
        if doc.get("format") != FORMAT:
            raise InputFileError(f"{meta_path} has format {doc.get('format')}, this edgekit reads {FORMAT}",
                                 "retrain the predictor")
        if doc["meta"].get("features") != list(FEATURES):
            raise InputFileError(f"the predictor in {d} was trained on other operator features than this edgekit's",
                                 "retrain it with `edgekit predictor train`")

        def booster(name: str) -> Any:
            return lgb.Booster(model_str=(d / name).read_text())

        models = {t: KernelModel(t, np.array(k["coef"], dtype=float), float(k["floor"]),
                                 [booster(f) for f in k["boosters"]], int(k["n_train"]), int(k["rounds"]))
                  for t, k in doc["kernels"].items()}
        c = doc["correction"]
        correction = Correction([booster(f) for f in c["boosters"]], float(c["q_lo"]), float(c["q_hi"]),
                                int(c["n_train"]), int(c["rounds"]))
        lut = LutSum.from_json(json.loads((d / "lut.json").read_text()))
        o = doc["overhead"]
    except (OSError, ValueError, KeyError, lgb.basic.LightGBMError) as e:
        raise InputFileError(f"the predictor in {d} is damaged ({type(e).__name__}: {e})",
                             "retrain it with `edgekit predictor train`") from None
    return Predictor(doc["meta"], Overhead(float(o["value"]), float(o["per_op"]), int(o["samples"])),
                     {k: FusionRule.from_json(v) for k, v in doc["fusion"].items()},
                     KernelModels(models, doc["meta"]["device_id"]), lut, correction,
                     tuple(doc["flops"]) if doc["flops"] is not None else None)
