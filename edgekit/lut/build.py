"""`edgekit lut build`: a space-filling start, then adaptive refinement, within a time budget.

1. Start: the operators of sampled search-space architectures and of the zoo's reference models
   (``archgraph``), then a scrambled Sobol design per family (``space.sobol_start``), minus what
   the table already holds for this device and measurement configuration (a rerun resumes).
2. Refine, while the budget lasts: the operator rows the current per-kernel model predicts worst
   (out-of-fold) are re-measured in a new session (wall-clock devices: is it noise?) and their
   neighbourhoods are measured (is the table too sparse there?).
Work is measured in chunks and the budget is checked between chunks, so a build overshoots its
budget by at most one chunk.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from edgekit.core.errors import UsageError
from edgekit.lut.measure import Backend, Job, jobs_from
from edgekit.lut.refine import worst_samples
from edgekit.lut.space import FAMILIES, Config, neighbours, sobol_start
from edgekit.lut.table import LutTable, value_column


@dataclass(frozen=True)
class BuildOptions:
    budget_s: float = 810.0          # 13.5 min: the default build stays within 15 min per device
    start: int | None = None         # configurations of the space-filling start (default per device kind)
    arch_archs: int | None = None    # sampled search-space architectures whose operators are measured too
    zoo: bool = True                 # and the operators of the MLPerf Tiny reference models (when present)
    refine_worst: int = 16           # worst samples per refinement round
    refine_neighbours: int = 2       # new configurations around each
    max_rounds: int = 100
    seed: int = 0
    families: tuple[str, ...] = ()   # default: every family
    chunk: int | None = None         # jobs per measurement call (default per device kind)

    def __post_init__(self) -> None:
        if self.budget_s <= 0:
            raise UsageError("--budget must be positive")
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown:
            raise UsageError(f"unknown LUT famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}",
                             f"known: {', '.join(FAMILIES)}")
        if self.start is not None and self.start < 1:
            raise UsageError("--start must be at least 1")
        if self.arch_archs is not None and self.arch_archs < 0:
            raise UsageError("--arch-archs must not be negative")


# (Sobol start, search-space architectures enumerated, jobs per chunk) per device kind
_DEFAULTS = {"mcu": (500, 80, 144), "linux": (240, 40, 40), "android": (240, 40, 40)}


@dataclass
class BuildReport:
    measured: int = 0                 # variants measured by this run
    skipped: int = 0                  # already in the table
    rounds: int = 0
    elapsed_s: float = 0.0
    stopped_by_budget: bool = False
    worst_errors: list[float] = field(default_factory=list)   # per round: the largest out-of-fold error


def build_lut(backend: Backend, table: LutTable, kind: str, options: BuildOptions = BuildOptions(),
              on_progress: Callable[[str, int, int], None] | None = None,
              clock: Callable[[], float] = time.monotonic) -> BuildReport:
    t0 = clock()
    report = BuildReport()
    start_n, archs_n, chunk = _DEFAULTS.get(kind, _DEFAULTS["linux"])
    start_n = options.start or start_n
    archs_n = archs_n if options.arch_archs is None else options.arch_archs
    chunk = options.chunk or chunk
    mkey = backend.provenance.measure_key
    emit = on_progress or (lambda stage, k, n: None)

    def left() -> float:
        return options.budget_s - (clock() - t0)

    def run(jobs: list[Job], stage: str) -> bool:
        """Measure the jobs not yet in the table; False when the budget ran out first."""
        done = table.done(mkey)
        todo = []
        for j in jobs:   # neighbours of two samples can coincide: measure each configuration once
            key = (j.member.config.key, j.member.variant, j.run_set)
            if key not in done:
                done.add(key)
                todo.append(j)
        report.skipped += len(jobs) - len(todo)
        for i in range(0, len(todo), chunk):
            if left() <= 0:
                report.stopped_by_budget = True
                return False
            part = todo[i:i + chunk]
            backend.measure(part, table.append)
            table.compact()
            report.measured += len(part)
            emit(stage, min(i + chunk, len(todo)), len(todo))
        return True

    families = options.families or None
    # the search space's and the zoo's own operators first: under a tight budget they matter most
    jobs: list[Job] = []
    if archs_n:
        from edgekit.lut.archgraph import arch_models, arch_start

        if getattr(backend, "per_layer", False):   # whole architectures, every layer timed in context
            jobs += jobs_from(arch_models(archs_n), 0, "arch")
        else:                                       # their operators, one model each
            jobs += jobs_from([(c, u) for c, u in arch_start(archs_n) if families is None or c.family in families],
                              0, "arch")
    if options.zoo:
        from edgekit.lut.archgraph import zoo_start

        jobs += jobs_from([(c, u) for c, u in zoo_start() if families is None or c.family in families], 0, "zoo")
    jobs += jobs_from(sobol_start(start_n, options.seed, families), 0, "sobol")
    if not run(jobs, "start"):
        report.elapsed_s = clock() - t0
        return report
    rows = table.rows()
    first_round = int(rows["round"].max()) + 1 if not rows.empty else 1
    col = value_column(backend.provenance.method)
    repeat = col == "latency_ms_p50"
    for r in range(first_round, first_round + options.max_rounds):
        if left() <= 0:
            report.stopped_by_budget = True
            break
        rows = table.rows()
        rows = rows[rows["measure_key"] == mkey]
        if families:
            rows = rows[rows["family"].isin(families)]
        worst = worst_samples(rows, col, options.refine_worst)
        if not worst:
            break
        finite = [e for _, _, e, _ in worst if np.isfinite(e)]
        report.worst_errors.append(max(finite) if finite else float("nan"))
        rng = np.random.default_rng([options.seed, r])
        items = []
        for fam, u, _, _ in worst:
            if len(u):   # operators of search-space architectures have no point to perturb
                items += neighbours(fam, u, options.refine_neighbours, rng)
        jobs = jobs_from(items, r, "refine")
        if repeat:   # the same configurations again, in a new session: separates noise from sparsity
            sessions = rows.groupby("config_key")["run_set"].max().to_dict()
            for _, u, _, text in worst:
                cfg = Config.from_json(text)
                jobs += jobs_from([(cfg, u)], r, "repeat", int(sessions.get(cfg.key, 0)) + 1)
        report.rounds += 1
        if not run(jobs, f"refine {r}"):
            break
    report.elapsed_s = clock() - t0
    return report
