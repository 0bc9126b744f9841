"""The LUT-sum predictor: each operator's measured figure looked up by its canonical signature,
summed (fused neighbour pairs charged once), plus the runtime's fixed cost per inference.

An operator whose exact signature was never measured takes the figure of the nearest measured
operator of the same kernel type (standardised log features), scaled by the ratio of their work
(MACs, or elements moved for operators without MACs) -- the interpolation a plain lookup table
allows. The share of exact hits is reported with every prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgekit.core.errors import UnsupportedModelError
from edgekit.lut.signatures import FEATURES, OpSig

_MACS, _IN, _OUT = FEATURES.index("macs"), FEATURES.index("in_elems"), FEATURES.index("out_elems")


def _logf(F: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(F, 0.0))   # -1 marks "not applicable" (padding of a pooling-free op)


def work(F: np.ndarray) -> np.ndarray:
    F = np.atleast_2d(F)
    return np.where(F[:, _MACS] > 0, F[:, _MACS], F[:, _IN] + F[:, _OUT])


@dataclass
class LutSum:
    keys: list[str]
    types: list[str]
    values: np.ndarray            # median net figure per signature
    features: np.ndarray          # (n, len(FEATURES))
    device_id: str

    def __post_init__(self) -> None:
        self._index = {k: i for i, k in enumerate(self.keys)}
        self._by_type: dict[str, np.ndarray] = {}
        for i, t in enumerate(self.types):
            self._by_type.setdefault(t, []).append(i)   # type: ignore[arg-type]
        self._by_type = {t: np.array(v) for t, v in self._by_type.items()}
        logf = _logf(self.features)
        self._mu = logf.mean(axis=0) if len(logf) else np.zeros(len(FEATURES))
        self._sd = logf.std(axis=0) + 1e-9 if len(logf) else np.ones(len(FEATURES))

    @staticmethod
    def from_rows(ops: Any, net: np.ndarray, device_id: str) -> "LutSum":
        df = ops.assign(net=net)
        g = df.groupby("sig_key", sort=True)
        first = g.first()
        feats = first[[f"f_{n}" for n in FEATURES]].to_numpy(dtype=float)
        return LutSum(list(first.index), list(first["kernel_type"]), g["net"].median().to_numpy(dtype=float),
                      feats, device_id)

    def per_op(self, sigs: tuple[OpSig, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(figures, exact-hit mask) per operator."""
        vals, hits = np.zeros(len(sigs)), np.zeros(len(sigs), dtype=bool)
        for i, s in enumerate(sigs):
            j = self._index.get(s.key)
            if j is not None:
                vals[i], hits[i] = self.values[j], True
                continue
            cand = self._by_type.get(s.kernel_type)
            if cand is None or len(cand) == 0:
                raise UnsupportedModelError(f"the LUT of {self.device_id} holds no {s.kernel_type} operator",
                                            "rebuild the LUT with that family")
            f = np.asarray(s.features, dtype=float)
            z = (_logf(f) - self._mu) / self._sd
            zc = (_logf(self.features[cand]) - self._mu) / self._sd
            k = cand[int(np.argmin(((zc - z) ** 2).sum(axis=1)))]
            ratio = float(work(f)[0]) / max(float(work(self.features[k])[0]), 1.0)
            vals[i] = self.values[k] * ratio
        return vals, hits

    def to_json(self) -> dict[str, Any]:
        return {"keys": self.keys, "types": self.types, "values": self.values.tolist(),
                "features": self.features.tolist(), "device_id": self.device_id}

    @staticmethod
    def from_json(d: dict[str, Any]) -> "LutSum":
        return LutSum(d["keys"], d["types"], np.array(d["values"], dtype=float),
                      np.array(d["features"], dtype=float).reshape(len(d["keys"]), len(FEATURES)), d["device_id"])
