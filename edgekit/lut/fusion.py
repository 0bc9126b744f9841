"""Which neighbouring operators the runtime executes as one kernel, found by measurement.

For every ``pair`` configuration the LUT holds the pair measured whole and each of its two
operators measured alone (the second on an input of the first's output shape). With the
per-inference cost O: pair = O + A + B - S, a = O + A, b = O + B, so the saving is
S = a + b - O - pair. Per pattern, S = alpha*A + beta*B is fitted over its configurations
(non-negative least squares, alpha and beta clipped to [0, 1]): the fraction of each operator
that disappears when the two run as one. A pattern is *fused* when the saving is clearly above
the noise and a real part of the cheaper operator (see ``analyze``); a whole-
model prediction then charges A + B - S for such a neighbour pair instead of A + B -- the failure
of naive operator LUTs that nn-Meter documents. A consistent negative saving (a *penalty*) is
charged the same way, with negative fractions.

On a microcontroller the generated code calls one kernel per layer and the per-layer counts time
each call on its own, so nothing can be fused: a difference between the layers of the pair and
the same operators alone is data dependence (e.g. softmax on other inputs), reported but never
applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgekit.lut.overhead import Overhead, collapse_sessions
from edgekit.lut.table import value_column

# pair kind -> (kernel type of the first operator, kernel type of the second)
PATTERNS = {"pad_conv": ("pad", "conv"), "pad_dwconv": ("pad", "dwconv"), "conv_add": ("conv1x1", "add"),
            "dw_pw": ("dwconv", "conv1x1"), "pw_dw": ("conv1x1", "dwconv"), "mean_fc": ("mean", "fc"),
            "fc_softmax": ("fc", "softmax")}


@dataclass(frozen=True)
class FusionRule:
    first: str
    second: str
    alpha: float            # fraction of the first operator saved
    beta: float             # fraction of the second operator saved
    median_saving: float    # median S / (A + B) over the measured configurations
    positive_share: float   # share of configurations with S > 0
    samples: int
    fused: bool             # a saving: the runtime runs the two as one kernel
    penalty: bool = False   # a cost: the pair costs more than its parts (e.g. a delegate partition boundary)

    @property
    def applies(self) -> bool:
        return self.fused or self.penalty

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))

    @staticmethod
    def from_json(d: dict[str, Any]) -> "FusionRule":
        return FusionRule(**d)


def _pair_figures(rows: Any, overhead: Overhead) -> dict[str, list[tuple[float, float, float]]]:
    """kind -> [(A, B, S)] per pair configuration with all three variants measured."""
    col = value_column(str(rows["method"].iloc[0]))
    pairs = collapse_sessions(rows[rows["family"] == "pair"])
    out: dict[str, list[tuple[float, float, float]]] = {}
    for key, g in pairs.groupby("config_key"):
        kind = json.loads(g["config"].iloc[0])["params"]["kind"]
        var = {v: gg for v, gg in g.groupby("variant")}
        if not {"pair", "a", "b"} <= set(var):
            continue
        if (var["pair"]["op_pos"] >= 0).any():      # per-layer counts (microcontroller)
            a = float(var["a"][col].sum())
            b = float(var["b"][col].sum())
            pair = float(var["pair"][col].sum())
            s = a + b - pair
        else:
            a = float(var["a"][col].iloc[0]) - overhead.value
            b = float(var["b"][col].iloc[0]) - overhead.value
            s = float(var["a"][col].iloc[0]) + float(var["b"][col].iloc[0]) - overhead.value - float(var["pair"][col].iloc[0])
        if a + b > 0:
            out.setdefault(kind, []).append((max(a, 0.0), max(b, 0.0), s))
    return out


def analyze(rows: Any, overhead: Overhead, noise: float = 0.03, absorbed: float = 0.3) -> dict[str, FusionRule]:
    """A pattern is fused when its saving is above the noise (median S / (A + B) > ``noise``), is a
    real part of the cheaper operator (median S / min(A, B) > ``absorbed``) and shows in at least
    70 % of the configurations; it is a penalty when the same holds for -S (the pair costs more
    than its operators, as at a boundary between a delegate and the interpreter's own kernels)."""
    from scipy.optimize import nnls

    rules = {}
    per_layer = bool((rows["op_pos"] >= 0).any())
    for kind, figs in sorted(_pair_figures(rows, overhead).items()):
        first, second = PATTERNS[kind]
        arr = np.array(figs)
        a, b, s = arr[:, 0], arr[:, 1], arr[:, 2]
        share = s / np.maximum(a + b, 1e-12)
        med, pos = float(np.median(share)), float(np.mean(s > 0))
        sign = 1.0 if med >= 0 else -1.0      # a penalty is fitted as a saving of -S
        alpha = beta = 0.0
        if len(arr) >= 2:
            (alpha, beta), _ = nnls(np.column_stack([a, b]) / np.maximum(a + b, 1e-12)[:, None], sign * share)
        of_smaller = float(np.median(sign * s / np.maximum(np.minimum(a, b), 1e-12)))
        clear = len(arr) >= 3 and abs(med) > noise and of_smaller > absorbed and not per_layer
        fused = clear and sign > 0 and pos >= 0.7
        penalty = clear and sign < 0 and pos <= 0.3
        alpha, beta = sign * float(min(alpha, 1.0)), sign * float(min(beta, 1.0))
        keep = fused or penalty
        rules[kind] = FusionRule(first, second, alpha if keep else 0.0, beta if keep else 0.0, med, pos,
                                 len(arr), fused, penalty)
    return rules
