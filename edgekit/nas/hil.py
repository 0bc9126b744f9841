"""Hardware in the loop: rounds of propose -> build -> measure on the device -> refit.

Round 0 measures the smallest architecture of the space (the fastest and smallest by construction):
if even it misses a target, no architecture can meet it and the search stops with that figure.
Every later round refits the latency predictor and the RAM/flash offsets on all measurements so far,
runs the strategy, and measures the candidates chosen by ``select``: the most accurate ones
predicted to land within [-band, 0] of the latency target, and the most accurate one expected to
meet it with margin ("expected to meet" = predicted mean plus z standard deviations). The
predictor is not exact (on qemu-m4 the per-layer model errs by ~2 % RMS after six networks:
kernels have costs the cost terms do not describe), so landing comes from measuring several
candidates near the target, each of them the real trained artifact.

The answer (``choose_winner``) is decided on measured latency, RAM and flash only. Among the
feasible candidates, accuracies closer to the best than the accuracy noise are treated as equal,
and the one with the most latency budget used wins (the extra capacity costs nothing the user
asked to keep). The noise is measured, not assumed: the round-0 architecture is retrained with
``NOISE_SEEDS`` seeds, and differences smaller than 1.96 x sqrt(2) x the standard deviation of its
validation accuracy are not significant at 5 % (two-sided, difference of two such estimates);
the tolerance is at least one binomial standard error of the best accuracy. On the accelerometer
data, where every architecture reaches 95-99 %, retraining one architecture moves its validation
accuracy by 0.4-2 points: most of the differences between candidates are of that size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekit.core.errors import ResourceLimitError
from edgekit.nas.candidate import CandidateJob, prepare_candidate
from edgekit.nas.measure import Measurement
from edgekit.nas.predictor import LinearLatency, ResourceModel, fit_latency
from edgekit.nas.strategies.base import Scored, SearchContext, Targets
from edgekit.nas.train import TrainOptions

LANDING_BAND = 0.03
NOISE_SEEDS = 5
Z_TIE = 1.96           # two-sided 5 % test on the difference of two accuracies


@dataclass(frozen=True)
class CandidateRecord:
    arch: Any
    round: int
    why: str                          # why it was chosen for measurement
    prepared: dict[str, Any]          # accuracies, tflite path (candidate.prepare_candidate)
    measurement: Measurement
    predicted: Scored | None          # what the search believed when it chose it (None: round 0)

    @property
    def key(self) -> str:
        return self.arch.key

    @property
    def acc(self) -> float:
        return float(self.prepared["int8_val_acc"])

    @property
    def latency_ms(self) -> float:
        return self.measurement.latency_ms

    def misses(self, t: Targets) -> list[str]:
        m, out = self.measurement, []
        if m.latency_ms > t.latency_ms:
            out.append(f"latency {m.latency_ms:.3f} ms > {t.latency_ms:g} ms")
        if m.ram_bytes > t.ram_bytes:
            out.append(f"RAM {m.ram_bytes:,} B > {t.ram_bytes:,} B")
        if m.flash_bytes > t.flash_bytes:
            out.append(f"flash {m.flash_bytes:,} B > {t.flash_bytes:,} B")
        return out

    def feasible(self, t: Targets) -> bool:
        return not self.misses(t)


def _prefer(cands: list[Scored], tol: float, key: Any) -> list[Scored]:
    """Candidates whose accuracy estimate ties with the best (within ``tol``) first, ordered by
    ``key``; the rest after them, by accuracy."""
    if not cands:
        return []
    best = max(p.acc for p in cands)
    ties = sorted((p for p in cands if p.acc >= best - tol), key=key)
    return ties + [p for p in cands if p.acc < best - tol]


def select(proposals: list[Scored], measured: set[str], t: Targets, k: int, z: float,
           band: float = LANDING_BAND, tol: float = 0.0) -> list[tuple[Scored, str]]:
    """Candidates to build and measure, in order of importance.

    Landing attempts (predicted mean inside [-band, 0] of the target) are made regardless of the
    predictor's uncertainty: one that overshoots on the device costs a measurement, never the
    answer. Safe choices (mean + z std <= target) make sure a feasible answer exists. Accuracy
    estimates within ``tol`` of each other are ties, broken towards the target as the winner's are.
    """
    pool = sorted({p.key: p for p in proposals if p.key not in measured}.values(),
                  key=lambda p: (-p.acc, -p.latency_ms, p.key))
    fits = [p for p in pool if p.ram_bytes <= t.ram_bytes and p.flash_bytes <= t.flash_bytes]
    centre = t.latency_ms * (1 - band / 2)
    safe = _prefer([p for p in fits if p.latency_ucb(z) <= t.latency_ms], tol, lambda p: (-p.latency_ms, p.key))
    landing = _prefer([p for p in fits if t.latency_ms * (1 - band) <= p.latency_ms <= t.latency_ms], tol,
                      lambda p: (abs(p.latency_ms - centre), p.key))
    below = sorted((p for p in fits if p.latency_ms <= t.latency_ms), key=lambda p: (-p.latency_ms, -p.acc, p.key))
    picks: list[tuple[Scored, str]] = []

    def take(p: Scored | None, why: str) -> None:
        if p is not None and all(p.key != q.key for q, _ in picks):
            picks.append((p, why))

    take(landing[0] if landing else None, "most accurate predicted within the landing band")
    take(safe[0] if safe else None, "most accurate expected to meet the targets")
    for p in landing:
        take(p, "next most accurate predicted within the landing band")
        if len(picks) >= 3:
            break
    take(below[0] if below else None, "predicted closest below the latency target")
    for p in safe:
        take(p, "next most accurate expected to meet the targets")
    for p in sorted(fits, key=lambda p: (abs(p.latency_ms - centre), p.key)):
        take(p, "closest to the latency target")
    return picks[:k]


def tolerance(records: list[CandidateRecord], seed_std: float) -> float:
    """Accuracy differences below this are not evidence (see the module docstring)."""
    best = max(r.acc for r in records)
    n = min(int(r.prepared.get("val_samples", 1)) for r in records)
    return max(math.sqrt(best * (1 - best) / max(n, 1)), 1.0 / max(n, 1), Z_TIE * math.sqrt(2.0) * seed_std)


def landing_pool(ctx: SearchContext, proposals: list[Scored], band: float = LANDING_BAND,
                 limit: int = 32) -> list[Scored]:
    """Architectures predicted inside the landing band, added to the strategy's proposals.

    A strategy's proposals follow its accuracy estimate; when that estimate does not grow with
    size (a saturated task), few of them lie near the target. Candidates come from single-gene
    mutations of the best proposals and from uniform samples; only the predictor is asked for
    all of them, the supernet only for the ``limit`` closest to the band's centre.
    """
    import numpy as np

    from edgekit.nas.train import derive_seed

    space, t = ctx.space, ctx.targets
    rng = np.random.default_rng(derive_seed(ctx.seed, "landing", ctx.round))
    lo, hi, centre = t.latency_ms * (1 - band), t.latency_ms, t.latency_ms * (1 - band / 2)
    ub = space.upper_bounds()
    seeds = sorted(proposals, key=lambda p: (-p.acc, p.key))[:16]
    genomes = []
    for p in seeds:
        g = list(space.encode(p.arch))
        for _ in range(24):
            h = list(g)
            i = int(rng.integers(0, len(h)))
            h[i] = int(rng.integers(0, ub[i] + 1))
            genomes.append(h)
    genomes += [[int(rng.integers(0, u + 1)) for u in ub] for _ in range(400)]
    found: dict[str, Any] = {}
    for g in genomes:
        arch = space.decode(g)
        mean, _ = ctx.latency.predict(arch)
        if lo <= mean <= hi and arch.key not in found:
            found[arch.key] = (abs(mean - centre), arch)
    chosen = sorted(found.values(), key=lambda v: (v[0], v[1].key))[:limit]
    return [ctx.evaluate(a) for _, a in chosen]


def choose_winner(records: list[CandidateRecord], t: Targets, seed_std: float = 0.0) -> CandidateRecord:
    feasible = [r for r in records if r.feasible(t)]
    if not feasible:
        raise unreachable(records, t)
    best = max(r.acc for r in feasible)
    tol = tolerance(feasible, seed_std)
    ties = [r for r in feasible if r.acc >= best - tol - 1e-12]
    return max(ties, key=lambda r: (r.latency_ms, r.acc, r.key))


def unreachable(records: list[CandidateRecord], t: Targets) -> ResourceLimitError:
    fastest = min(records, key=lambda r: (r.latency_ms, r.key))
    m = fastest.measurement
    what = "latency_ms_icount_derived" if m.latency_kind == "icount-derived" else "latency_ms"
    misses = "; ".join(fastest.misses(t))
    return ResourceLimitError(
        f"no architecture of the space meets the targets on {m.device_id}: the fastest found, "
        f"{fastest.arch.label()}, measured {what} = {m.latency_ms:.3f} ({misses})",
        f"raise the targets to at least what it measured, or search a smaller space")


class HilLoop:
    def __init__(self, sdir: Any, space: Any, options: Any, measurer: Any, executor: Any, scorer: Any,
                 supernet: Any, source: Any, targets: Targets, strategy: Any, z: float = 1.0,
                 progress: Callable[[str], None] | None = None) -> None:
        self.sdir, self.space, self.options = sdir, space, options
        self.measurer, self.executor, self.scorer = measurer, executor, scorer
        self.supernet, self.source, self.targets, self.strategy = supernet, source, targets, strategy
        self.z = z
        self.progress = progress or (lambda _msg: None)
        self.records: list[CandidateRecord] = []
        self.rounds: list[dict[str, Any]] = []
        self.predictor: LinearLatency | None = None
        self.noise: dict[str, Any] = {}

    # -- building and measuring -------------------------------------------------------------------
    def _jobs(self, archs: list[Any]) -> list[CandidateJob]:
        o = self.options
        train = TrainOptions(epochs=o.candidate_epochs, max_train_samples=o.max_train_samples)
        return [CandidateJob(str(self.sdir.candidate_dir(a.key)), self.space.to_json(), a.to_json(), o.data,
                             train, o.seed) for a in archs]

    def build_and_measure(self, chosen: list[tuple[Any, str, Scored | None]], round_index: int) -> None:
        archs = [a for a, _, _ in chosen]
        todo = [a for a in archs if not (self.sdir.candidate_dir(a.key) / "prepared.json").is_file()]
        if todo:
            self.progress(f"round {round_index}: training and converting {len(todo)} candidate(s)")
        prepared = self.executor.map(prepare_candidate, self._jobs(archs))
        for (arch, why, pred), prep in zip(chosen, prepared):
            m = self.sdir.measurement(arch.key)
            if m is None:
                self.progress(f"round {round_index}: measuring {arch.label()} on {self.measurer.device_id}")
                m = self.measurer.measure(Path(prep["tflite"]), self.sdir.candidate_dir(arch.key) / "mcu", arch.key)
                self.sdir.save_measurement(arch.key, m)
            rec = CandidateRecord(arch, round_index, why, prep, m, pred)
            self.records.append(rec)
            self.progress(f"  {arch.label()}: {m.latency_column} {m.latency_ms:.3f}, RAM {m.ram_bytes:,} B, "
                          f"flash {m.flash_bytes:,} B, int8 val acc {rec.acc:.4f}")

    def accuracy_noise(self, arch: Any) -> dict[str, Any]:
        """Validation accuracy of ``arch`` retrained with other seeds (cached in the search directory)."""
        import json

        import numpy as np

        from edgekit.core.artifact import atomic_write_text
        from edgekit.nas.candidate import retrained_accuracy

        path = self.sdir.root / "accuracy_noise.json"
        if path.is_file():
            return json.loads(path.read_text())
        self.progress(f"accuracy noise: retraining {arch.label()} with {NOISE_SEEDS - 1} more seeds")
        first = self._jobs([arch])[0]
        jobs = [CandidateJob(first.folder, first.space, first.arch, first.data_spec, first.train,
                             first.seed + 1000 * i) for i in range(1, NOISE_SEEDS)]
        accs = [float(self.records[0].prepared["float_val_acc"])] + list(self.executor.map(retrained_accuracy, jobs))
        out = {"arch": arch.label(), "float_val_accs": accs, "std": float(np.std(accs, ddof=1))}
        atomic_write_text(path, json.dumps(out, indent=1) + "\n")
        return out

    # -- the loop ----------------------------------------------------------------------------------
    def fit(self) -> tuple[LinearLatency, ResourceModel]:
        archs = [r.arch for r in self.records]
        self.predictor = fit_latency(self.space, self.records)
        resources = ResourceModel.fit(self.space, archs, [r.measurement.flash_bytes for r in self.records],
                                      [r.measurement.ram_bytes for r in self.records])
        return self.predictor, resources

    def run(self) -> list[CandidateRecord]:
        o, t = self.options, self.targets
        smallest = self.space.smallest()
        self.build_and_measure([(smallest, "smallest of the space (fastest by construction)", None)], 0)
        self.rounds.append({"round": 0, "chosen": [smallest.key]})
        if not self.records[0].feasible(t):
            raise unreachable(self.records, t)
        self.noise = self.accuracy_noise(smallest)
        r = 0
        while len(self.records) < o.budget:
            r += 1
            latency, resources = self.fit()
            ctx = SearchContext(self.space, self.scorer, latency, resources, t, o.seed, r, z=self.z,
                                supernet=self.supernet, source=self.source,
                                measured=tuple(x.arch for x in self.records))
            proposals = self.strategy.propose(ctx)
            proposals = proposals + landing_pool(ctx, proposals)
            self.sdir.save_scores(self.scorer.cache, self.scorer.archs)
            measured = {x.key for x in self.records}
            picks = select(proposals, measured, t, min(o.per_round, o.budget - len(self.records)), self.z,
                           tol=Z_TIE * math.sqrt(2.0) * self.noise.get("std", 0.0))
            info = {"round": r, "predictor": latency.describe(), "proposals": len(proposals),
                    "chosen": [{"key": p.key, "label": p.arch.label(), "why": why, "supernet_acc": p.acc,
                                "predicted_latency_ms": p.latency_ms, "predicted_std_ms": p.latency_std}
                               for p, why in picks]}
            self.sdir.save_round(r, info)
            self.rounds.append(info)
            if not picks:
                self.progress(f"round {r}: the strategy proposed nothing new to measure; stopping")
                break
            self.build_and_measure([(p.arch, why, p) for p, why in picks], r)
        self.fit()
        return self.records


__all__ = ["CandidateRecord", "HilLoop", "choose_winner", "select", "unreachable"]
