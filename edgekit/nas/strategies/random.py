"""Uniform random sampling of the space: the baseline every strategy is compared with."""

from __future__ import annotations

import numpy as np

from edgekit.nas.strategies.base import Scored, SearchContext
from edgekit.nas.train import derive_seed


class RandomSampling:
    name = "random"

    def __init__(self, samples: int = 288) -> None:
        self.samples = samples

    def propose(self, ctx: SearchContext) -> list[Scored]:
        rng = np.random.default_rng(derive_seed(ctx.seed, "random", ctx.round))
        for _ in range(self.samples):
            ctx.evaluate(ctx.space.sample(rng))
        return ctx.evaluated()
