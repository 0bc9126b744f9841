"""Differentiable constrained search in the style of LightNAS ("you only search once").

Architecture parameters: one logit vector per decision of the space. Each step samples a
sub-network with straight-through Gumbel-softmax (one-hot forward, soft gradients), runs it in the
trained supernet on a batch at the sampled resolution, and minimises

    cross-entropy + lambda * g + rho/2 * g^2,   g = E[latency] / target - 1

where E[latency] is the latency predictor applied to the expected cost terms of the current
probabilities (exact for independent choices, see IRSpace.cost_terms). The multiplier lambda is
updated by gradient *ascent* on the same term, so it grows while the expected latency is above the
target and shrinks (possibly below zero) while it is under: the expected latency is driven to the
target rather than merely below it. The quadratic term (an augmented Lagrangian) damps the
oscillation that plain ascent-descent shows: with it the expected latency settles within ~2 % of
the target in ~100 steps (tests/unit/nas/test_nas_strategies.py). The supernet weights stay fixed (they were trained by the
sandwich rule); its BatchNorm uses batch statistics.

The strategy aims at ``ctx.aim`` x the target (just inside it: LightNAS itself lands above its
targets in 4 of 6 published cases) and proposes the most likely architecture plus samples of the
final distribution, scored like every other proposal; the device has the last word.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from edgekit.core.errors import UsageError
from edgekit.nas.strategies.base import Scored, SearchContext
from edgekit.nas.train import deterministic, derive_seed, train_subset


class Differentiable:
    name = "differentiable"

    def __init__(self, steps: int = 150, lr: float = 0.05, lr_lambda: float = 0.2, batch_size: int = 64,
                 tau: tuple[float, float] = (4.0, 0.3), samples: int = 48, rho: float = 4.0,
                 betas: tuple[float, float] = (0.5, 0.999)) -> None:
        self.steps = steps
        self.rho = rho
        self.betas = betas
        self.lr = lr
        self.lr_lambda = lr_lambda
        self.batch_size = batch_size
        self.tau = tau
        self.samples = samples
        self.history: list[dict[str, float]] = []

    def propose(self, ctx: SearchContext) -> list[Scored]:
        space, latency = ctx.space, ctx.latency
        if getattr(space, "kind", "") != "mcu-ir" or ctx.supernet is None:
            raise UsageError("the differentiable strategy searches mcu-ir spaces with their supernet",
                             "use --strategy evolution for this space")
        if not hasattr(latency, "torch_predict"):
            raise UsageError("the differentiable strategy needs a latency predictor with torch_predict",
                             "use the built-in cost-term predictor or --strategy evolution")
        supernet = copy.deepcopy(ctx.supernet)
        for p in supernet.parameters():
            p.requires_grad_(False)
        names = [n for n, _ in space.gene_choices()]
        sizes = [len(c) for _, c in space.gene_choices()]
        alpha = {n: torch.zeros(k, requires_grad=True) for n, k in zip(names, sizes)}
        opt = torch.optim.Adam(alpha.values(), lr=self.lr, betas=self.betas)
        lam = 0.0
        target = ctx.targets.latency_ms * ctx.aim
        gen = torch.Generator().manual_seed(derive_seed(ctx.seed, "gumbel", ctx.round))
        batches = {r: train_subset(ctx.source.at(r), None) for r in space.resolutions}
        from edgekit.nas.supernet import gumbel_hard

        self.history = []
        with deterministic():
            supernet.train()
            for step in range(self.steps):
                frac = step / max(self.steps - 1, 1)
                tau = self.tau[0] * (self.tau[1] / self.tau[0]) ** frac
                w = {n: gumbel_hard(alpha[n], tau, gen) for n in names}
                r_idx = int(w["resolution"].argmax())
                x, y = batches[space.resolutions[r_idx]]
                idx = torch.randint(0, len(y), (self.batch_size,), generator=gen).numpy()
                logits = supernet(torch.from_numpy(x[idx]), w) * w["resolution"][r_idx]
                ce = F.cross_entropy(logits, torch.from_numpy(y[idx]))
                probs = {n: F.softmax(alpha[n], dim=0) for n in names}
                expected = latency.torch_predict(space.cost_terms(probs))
                gap = expected / target - 1.0
                loss = ce + lam * gap + 0.5 * self.rho * gap * gap
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                lam += self.lr_lambda * float(gap.detach())      # gradient ascent on the multiplier
                self.history.append({"step": step, "ce": float(ce.detach()), "expected_latency_ms": float(expected.detach()),
                                     "lambda": lam, "tau": tau})
        with torch.no_grad():
            probs = {n: F.softmax(alpha[n], dim=0).numpy().astype(np.float64) for n in names}
        best = space.decode([int(np.argmax(probs[n])) for n in names])
        ctx.evaluate(best)
        rng = np.random.default_rng(derive_seed(ctx.seed, "differentiable-samples", ctx.round))
        for _ in range(self.samples):
            genes = [int(rng.choice(len(p), p=p / p.sum())) for p in (probs[n] for n in names)]
            ctx.evaluate(space.decode(genes))
        return ctx.evaluated()
