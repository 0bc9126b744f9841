"""The strategy interface: given a context (space, accuracy estimator, latency and resource
predictors, targets), propose architectures with their estimates. The hardware-in-the-loop driver
(edgekit.nas.hil) chooses which of them to build and measure; no strategy decides feasibility of
the final answer, which is taken on measured figures only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from edgekit.core.errors import UsageError


@dataclass(frozen=True)
class Targets:
    latency_ms: float     # on emulated boards: compared with the icount-derived latency
    ram_bytes: int
    flash_bytes: int

    def __post_init__(self) -> None:
        if not self.latency_ms > 0:
            raise UsageError(f"--latency-ms {self.latency_ms} must be positive", "e.g. --latency-ms 5")
        if self.ram_bytes <= 0 or self.flash_bytes <= 0:
            raise UsageError("--ram-kb and --flash-kb must be positive", "e.g. --ram-kb 64 --flash-kb 256")


@dataclass(frozen=True)
class Scored:
    """An architecture with what the search believes of it (nothing here is measured)."""

    arch: Any
    acc: float                 # supernet estimate: inherited weights, recalibrated BN, validation split
    latency_ms: float          # predicted mean
    latency_std: float
    flash_bytes: float         # predicted
    ram_bytes: float

    @property
    def key(self) -> str:
        return self.arch.key

    def latency_ucb(self, z: float) -> float:
        return self.latency_ms + z * self.latency_std

    def predicted_feasible(self, t: Targets, z: float) -> bool:
        return self.latency_ucb(z) <= t.latency_ms and self.ram_bytes <= t.ram_bytes and self.flash_bytes <= t.flash_bytes


@dataclass
class SearchContext:
    space: Any
    scorer: Any                # .score(arch) -> float
    latency: Any               # LatencyPredictor: .predict(arch) -> (mean_ms, std_ms)
    resources: Any             # .predict(arch) -> (flash_bytes, ram_bytes)
    targets: Targets
    seed: int
    round: int
    z: float = 1.0             # confidence multiplier on the latency uncertainty
    aim: float = 0.985         # the differentiable strategy steers the expected latency to aim x target
    supernet: Any = None
    source: Any = None
    measured: tuple[Any, ...] = ()   # architectures measured so far (a strategy may start from them)
    _cache: dict[str, Scored] = field(default_factory=dict)

    def evaluate(self, arch: Any) -> Scored:
        key = arch.key
        if key not in self._cache:
            mean, std = self.latency.predict(arch)
            flash, ram = self.resources.predict(arch)
            self._cache[key] = Scored(arch, self.scorer.score(arch), mean, std, flash, ram)
        return self._cache[key]

    def evaluated(self) -> list[Scored]:
        return list(self._cache.values())


class Strategy(Protocol):
    name: str

    def propose(self, ctx: SearchContext) -> list[Scored]:
        """Every architecture the strategy considered, scored through ``ctx.evaluate``."""
        ...
