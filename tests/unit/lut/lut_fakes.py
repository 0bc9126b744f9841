"""A synthetic device for the LUT and predictor unit tests: each operator costs a known function of
its configuration, the runtime adds a fixed cost per inference and executes a PAD that feeds a
VALID convolution for free (a fusion). Its figures are exact, so what the predictors learn can be
checked against the truth; it goes through the same table rows as a real Linux device."""

from __future__ import annotations

from pathlib import Path

from edgekit.core.errors import DeviceError
from edgekit.lut.generate import model_path
from edgekit.lut.measure import Job, _unit_rows
from edgekit.lut.signatures import FEATURES, graph_signatures
from edgekit.lut.table import Provenance
from edgekit.tflite.reader import read_tflite

OVERHEAD_MS = 0.004
_F = {n: i for i, n in enumerate(FEATURES)}
# ms per MAC, per element moved, per operator
COST = {"conv": (2e-9, 1e-9, 2e-4), "conv1x1": (1.5e-9, 1e-9, 1e-4), "dwconv": (6e-9, 2e-9, 1e-4),
        "fc": (3e-9, 1e-9, 5e-5), "avgpool": (0, 3e-9, 5e-5), "maxpool": (0, 2e-9, 5e-5), "add": (0, 2e-9, 3e-5),
        "mean": (0, 2e-9, 3e-5), "pad": (0, 4e-9, 3e-5), "reshape": (0, 5e-10, 1e-5), "softmax": (0, 2e-8, 3e-5)}


def op_cost(sig, scale: dict[str, float] | None = None) -> float:  # noqa: ANN001
    a, b, c = COST[sig.kernel_type]
    k = (scale or {}).get(sig.kernel_type, 1.0)
    a, b, c = a * k, b * k, c * k
    f = sig.features
    # a cache effect no linear model of one operator sees: big activations cost 20 % more
    big = 1.2 if f[_F["in_elems"]] + f[_F["out_elems"]] > 60_000 else 1.0
    return (a * f[_F["macs"]] + b * (f[_F["in_elems"]] + f[_F["out_elems"]]) + c) * big


def graph_ms(graph, scale: dict[str, float] | None = None, overhead_ms: float = OVERHEAD_MS) -> float:  # noqa: ANN001
    """The fake device's time for a graph; ``scale`` multiplies kernel types (another device)."""
    sigs = graph_signatures(graph)
    consumers = graph.consumers()
    total = overhead_ms
    for op, s in zip(graph.operators, sigs):
        readers = consumers.get(op.outputs[0], [])
        fused = (s.kernel_type == "pad" and len(readers) == 1 and sigs[readers[0]].kernel_type in ("conv", "dwconv")
                 and sigs[readers[0]].sig.get("pad") == "VALID")
        if not fused:
            total += op_cost(s, scale)
    return total


class FakeBackend:
    """Measures by formula; raises DeviceError after ``fail_after`` variants when set."""

    def __init__(self, root: Path, device_id: str = "fake-linux", fail_after: int | None = None) -> None:
        self.root = root
        self.fail_after = fail_after
        self.measured = 0
        self.provenance = Provenance(device_id, "linux", False, "wallclock", {"path": "fake", "repeats": 1})

    def measure(self, jobs: list[Job], sink) -> None:  # noqa: ANN001
        for j in jobs:
            if self.fail_after is not None and self.measured >= self.fail_after:
                raise DeviceError("the fake device went away")
            path = model_path(self.root, j.member.config, j.member.variant)
            ms = graph_ms(read_tflite(path))
            metrics = {"latency_ms_p50": ms, "latency_ms_min": ms, "latency_ms_mean": ms, "latency_cv": 0.0,
                       "repeats": 1}
            sink(_unit_rows(self.provenance, j, path, metrics, "0" * 64, f"fake-{j.member.key}-{j.run_set}",
                            "fake/1", {"fake": "1"}))
            self.measured += 1

    def close(self) -> None:
        pass
