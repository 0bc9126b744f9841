"""Search strategies behind one interface (``base.Strategy``): each proposes scored architectures."""

from __future__ import annotations

from edgekit.core.errors import UsageError
from edgekit.nas.strategies.base import Scored, SearchContext, Strategy, Targets

STRATEGIES = ("evolution", "differentiable", "random")


def make_strategy(name: str, population: int = 24, generations: int = 12, surrogate: bool = False,
                  steps: int = 150) -> Strategy:
    if name == "evolution":
        from edgekit.nas.strategies.evolution import Evolution
        return Evolution(population, generations, surrogate)
    if name == "differentiable":
        from edgekit.nas.strategies.differentiable import Differentiable
        return Differentiable(steps=steps)
    if name == "random":
        from edgekit.nas.strategies.random import RandomSampling
        return RandomSampling(population * generations)
    raise UsageError(f"unknown strategy {name!r}", f"use one of: {', '.join(STRATEGIES)}")


__all__ = ["STRATEGIES", "Scored", "SearchContext", "Strategy", "Targets", "make_strategy"]
