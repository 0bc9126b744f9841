"""A device's trained predictor and what it answers for a model.

Four estimates side by side, every one of them *modelled* (never measured):
- ``flops``: a line in MACs fitted on the device's measured whole models (the baseline);
- ``lut_sum``: measured operator figures looked up by signature (edgekit.predict.lut_sum);
- ``gbm``: per-kernel LightGBM models summed (fused pairs once) plus the fixed cost per inference;
- ``gbm_corrected``: ``gbm`` times the whole-model correction -- the answer, with an 80 % interval.
Figures are in the LUT's unit: wall-clock milliseconds, or emulated instructions (qemu-icount),
or cycles (dwt-cyccnt). For instruction counts a time is given only as "at the profile's clock,
one instruction per cycle", never as a measured latency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgekit.lut.fusion import FusionRule
from edgekit.lut.overhead import Overhead
from edgekit.predict.gbm import KernelModels
from edgekit.predict.lut_sum import LutSum
from edgekit.predict.units import GraphUnits, graph_units
from edgekit.predict.whole_model import Correction, graph_features
from edgekit.tflite.ir import Graph

UNITS = {"latency_ms_p50": "ms", "instructions": "instructions", "cycles": "cycles"}


@dataclass(frozen=True)
class Prediction:
    model: str
    device_id: str
    emulated: bool
    method: str                      # always "modelled"
    figure: str                      # latency_ms_p50 | instructions | cycles
    unit: str                        # ms | instructions | cycles
    value: float                     # gbm_corrected
    interval: tuple[float, float]    # 80 % (10th..90th percentile)
    by_method: dict[str, float]      # flops, lut_sum, gbm, gbm_corrected
    lut_hit_share: float             # operators found exactly in the LUT
    n_ops: int
    fused_pairs: int
    latency_ms: float | None         # wall-clock devices: value; instruction counts: at the clock, 1 IPC
    latency_note: str
    energy_mj: float | None          # modelled from the profile's nj_per_instruction, else None
    ram_bytes: dict[str, int] = field(default_factory=dict)   # microcontrollers: exact, from the codegen plan

    def to_json(self) -> dict[str, Any]:
        d = dict(vars(self))
        d["interval"] = list(self.interval)
        return d


@dataclass
class Predictor:
    meta: dict[str, Any]             # device_id, emulated, method, figure, clock_hz, nj_per_instruction, versions ...
    overhead: Overhead
    rules: dict[str, FusionRule]
    kernels: KernelModels
    lut: LutSum
    correction: Correction
    flops: tuple[float, float] | None   # figure = a * MACs + b

    @property
    def figure(self) -> str:
        return str(self.meta["figure"])

    def units(self, graph: Graph) -> GraphUnits:
        cpu = self.meta.get("inplace_cpu")   # microcontrollers: the code generator's in-place decisions
        return graph_units(graph, self.rules, cpu)

    def raw_many(self, graphs: list[Graph]) -> list[dict[str, Any]]:
        """Every estimate of each graph and the pieces the correction and the adaptation use; the
        boosters run once per kernel type for all the graphs' operators together."""
        units = [self.units(g) for g in graphs]
        if not units:
            return []
        sizes = [len(u.sigs) for u in units]
        F = np.vstack([u.features() for u in units])
        members = self.kernels.predict_ops(F, [t for u in units for t in u.kernel_types()])
        bounds = np.cumsum([0, *sizes])
        out, feats = [], []
        for u, a, b in zip(units, bounds[:-1], bounds[1:]):
            m = members[:, a:b]
            per_op, sums = m.mean(axis=0), u.combine(m, self.rules)
            gbm_members = sums + self.overhead.value
            feats.append(graph_features(u, per_op, float(gbm_members.mean())))
            lut_vals, hits = self.lut.per_op(u.sigs)
            macs = sum(s.macs for s in u.sigs)
            types = u.kernel_types()
            by_type: dict[str, float] = {}
            for t, v in zip(types, per_op):
                by_type[t] = by_type.get(t, 0.0) + float(v)
            out.append({"units": u, "gbm_members": gbm_members, "macs": macs, "by_type": by_type, "hits": hits,
                        "lut_sum": float(u.combine(lut_vals, self.rules)) + self.overhead.value,
                        "flops": None if self.flops is None else self.flops[0] * macs + self.flops[1]})
        X = np.array(feats)
        corr = self.correction.predict_members(X)
        for i, r in enumerate(out):
            r["features"] = X[i]
            r["corrected_members"] = r["gbm_members"] * np.exp(corr[:, i])
        return out

    def raw(self, graph: Graph) -> dict[str, Any]:
        return self.raw_many([graph])[0]

    def predict_many(self, graphs: list[Graph]) -> list[Prediction]:
        return [self._prediction(g, r) for g, r in zip(graphs, self.raw_many(graphs))]

    def predict(self, graph: Graph) -> Prediction:
        return self._prediction(graph, self.raw(graph))

    def _prediction(self, graph: Graph, r: dict[str, Any]) -> Prediction:
        value = float(r["corrected_members"].mean())
        lo = min(value * float(np.exp(self.correction.q_lo)), float(r["corrected_members"].min()))
        hi = max(value * float(np.exp(self.correction.q_hi)), float(r["corrected_members"].max()))
        figure, meta = self.figure, self.meta
        if figure == "latency_ms_p50":
            latency, note = value, "modelled wall-clock p50"
        elif meta.get("clock_hz"):
            latency = value / float(meta["clock_hz"]) * 1e3
            note = f"modelled {UNITS[figure]} at {meta['clock_hz'] / 1e6:g} MHz, one per cycle (not a measured time)"
        else:
            latency, note = None, "no clock in the device profile"
        nj = meta.get("nj_per_instruction")
        energy = value * float(nj) * 1e-6 if nj and figure == "instructions" else None
        return Prediction(
            model=graph.name, device_id=meta["device_id"], emulated=bool(meta["emulated"]), method="modelled",
            figure=figure, unit=UNITS[figure], value=value, interval=(lo, hi),
            by_method={"flops": r["flops"], "lut_sum": r["lut_sum"], "gbm": float(r["gbm_members"].mean()),
                       "gbm_corrected": value},
            lut_hit_share=float(r["hits"].mean()) if len(r["hits"]) else 0.0, n_ops=len(r["units"].sigs),
            fused_pairs=len(r["units"].pairs), latency_ms=latency, latency_note=note, energy_mj=energy)
