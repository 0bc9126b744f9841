"""Evolutionary constrained search with pymoo's NSGA-II through its ask/tell interface.

Objectives: maximise the supernet accuracy estimate, minimise predicted latency. Constraints in
pymoo's ``G <= 0`` form, normalised by the targets: latency (predicted mean + z * std), RAM and
flash (predicted upper estimates). Genes are integer choice indices (rounded SBX / polynomial
mutation); the first population holds the architectures already measured on the device, then
seeded random ones.

Optional Pareto-rank surrogate: each generation asks for three times the population, ranks the
offspring by a LightGBM model of the accuracy (one-hot genome, trained on every true evaluation
so far) together with predicted latency (non-dominated sorting), and evaluates only the best third
with the supernet; the others keep the surrogate's estimate. Its rank agreement with the true
scores (Kendall tau) is recorded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgekit.nas.strategies.base import Scored, SearchContext
from edgekit.nas.train import derive_seed


class Evolution:
    name = "evolution"

    def __init__(self, population: int = 24, generations: int = 12, surrogate: bool = False) -> None:
        self.population = population
        self.generations = generations
        self.surrogate = surrogate
        self.surrogate_tau: list[float] = []

    def _row(self, ctx: SearchContext, s: Scored) -> tuple[list[float], list[float]]:
        t = ctx.targets
        f = [-s.acc, s.latency_ms]
        g = [s.latency_ucb(ctx.z) / t.latency_ms - 1.0, s.ram_bytes / t.ram_bytes - 1.0,
             s.flash_bytes / t.flash_bytes - 1.0]
        return f, g

    def propose(self, ctx: SearchContext) -> list[Scored]:
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.evaluator import Evaluator
        from pymoo.core.problem import Problem
        from pymoo.operators.crossover.sbx import SBX
        from pymoo.operators.mutation.pm import PM
        from pymoo.operators.repair.rounding import RoundingRepair
        from pymoo.problems.static import StaticProblem

        space = ctx.space
        ub = space.upper_bounds()
        problem = Problem(n_var=space.n_genes, n_obj=2, n_ieq_constr=3, xl=np.zeros_like(ub), xu=ub, vtype=int)
        rng = np.random.default_rng(derive_seed(ctx.seed, "evolution-init", ctx.round))
        start = [space.encode(a) for a in ctx.measured][: self.population // 2]
        while len(start) < self.population:
            start.append(space.encode(space.sample(rng)))
        algorithm = NSGA2(pop_size=self.population, sampling=np.asarray(start, dtype=float),
                          crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
                          mutation=PM(eta=20, vtype=float, repair=RoundingRepair()),
                          n_offsprings=self.population * (3 if self.surrogate else 1),
                          eliminate_duplicates=True)
        algorithm.setup(problem, termination=("n_gen", self.generations),
                        seed=derive_seed(ctx.seed, "nsga2", ctx.round) % (2 ** 31), verbose=False)
        generation = 0
        while algorithm.has_next():
            pop = algorithm.ask()
            archs = [space.decode(space.canonical(np.clip(np.round(x), 0, ub).astype(int))) for x in pop.get("X")]
            if self.surrogate and generation > 0:
                rows = self._screened(ctx, archs, self._fit_surrogate(ctx))
            else:
                rows = [self._row(ctx, ctx.evaluate(a)) for a in archs]
            F = np.asarray([r[0] for r in rows])
            G = np.asarray([r[1] for r in rows])
            Evaluator().eval(StaticProblem(problem, F=F, G=G), pop)
            algorithm.tell(infills=pop)
            generation += 1
        return ctx.evaluated()

    # -- Pareto-rank surrogate ------------------------------------------------------------------
    def _features(self, ctx: SearchContext, archs: list[Any]) -> np.ndarray:
        space = ctx.space
        ub = space.upper_bounds()
        offsets = np.concatenate([[0], np.cumsum(ub + 1)[:-1]])
        x = np.zeros((len(archs), int((ub + 1).sum())))
        for i, a in enumerate(archs):
            x[i, offsets + np.asarray(space.encode(a))] = 1.0
        return x

    def _fit_surrogate(self, ctx: SearchContext) -> Any:
        import lightgbm as lgb

        seen = ctx.evaluated()
        x = self._features(ctx, [s.arch for s in seen])
        y = np.asarray([s.acc for s in seen])
        params = {"objective": "regression", "num_leaves": 8, "min_data_in_leaf": 3, "learning_rate": 0.1,
                  "verbose": -1, "deterministic": True, "num_threads": 1, "seed": 0}
        return lgb.train(params, lgb.Dataset(x, y), num_boost_round=60)

    def _screened(self, ctx: SearchContext, archs: list[Any], model: Any) -> list[tuple[list[float], list[float]]]:
        from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

        predicted = model.predict(self._features(ctx, archs))
        lat = np.asarray([ctx.latency.predict(a)[0] for a in archs])
        fronts = NonDominatedSorting().do(np.stack([-predicted, lat], axis=1))
        rank = np.empty(len(archs), dtype=int)
        for r, front in enumerate(fronts):
            rank[front] = r
        order = np.lexsort((lat, -predicted, rank))
        chosen = set(order[: max(1, len(archs) // 3)].tolist())
        rows, truth, guess = [], [], []
        for i, a in enumerate(archs):
            if i in chosen:
                s = ctx.evaluate(a)
                truth.append(s.acc)
                guess.append(predicted[i])
            else:
                mean, std = ctx.latency.predict(a)
                flash, ram = ctx.resources.predict(a)
                s = Scored(a, float(predicted[i]), mean, std, flash, ram)
            rows.append(self._row(ctx, s))
        if len(truth) > 2:
            from scipy.stats import kendalltau
            tau = kendalltau(guess, truth).statistic
            if np.isfinite(tau):
                self.surrogate_tau.append(float(tau))
        return rows
