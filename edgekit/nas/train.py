"""Training and scoring: candidates from scratch, the supernet by the sandwich rule, sub-networks
with inherited weights and recalibrated BatchNorm.

Determinism: every random stream is derived from (seed, what, epoch) rather than from global state
consumed in order, torch runs deterministic algorithms on one thread, and the supernet is
checkpointed after every epoch (weights, optimiser, schedule), so an interrupted and resumed
training ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgekit.core.errors import InputFileError
from edgekit.nas.data import DataSource, TaskData

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainOptions:
    epochs: int = 15
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    max_train_samples: int | None = None     # a fixed subset (speed; tests and demos)


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any parts (stable across processes, unlike hash())."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """Deterministic kernels on one thread; the previous settings come back afterwards."""
    prev_det, prev_threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev_det)
        torch.set_num_threads(prev_threads)


def train_subset(data: TaskData, max_samples: int | None) -> tuple[np.ndarray, np.ndarray]:
    if max_samples is None or max_samples >= len(data.y_train):
        return data.x_train, data.y_train
    order = np.random.default_rng(0).permutation(len(data.y_train))[:max_samples]
    order.sort()
    return data.x_train[order], data.y_train[order]


@torch.no_grad()
def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 512) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(y), batch):
        logits = model(torch.from_numpy(x[i:i + batch]))
        correct += int((logits.argmax(1).numpy() == y[i:i + batch]).sum())
    return correct / max(len(y), 1)


@torch.no_grad()
def recalibrate_bn(model: nn.Module, x: np.ndarray, samples: int = 512, batch: int = 128) -> None:
    """Replace BatchNorm running statistics by exact averages over ``samples`` training inputs,
    drawn by a fixed permutation (data sets are often stored class by class: the first samples
    would all be one class)."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    pick = np.sort(np.random.default_rng(0).permutation(len(x))[:samples])
    xs = x[pick]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None          # cumulative average over the calibration batches
    model.train()
    for i in range(0, len(xs), batch):
        if len(xs[i:i + batch]) > 1:
            model(torch.from_numpy(xs[i:i + batch]))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()


def _cosine(optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1))))


def train_classifier(model: nn.Module, data: TaskData, options: TrainOptions, seed: int) -> float:
    """Train from the model's current weights; returns float validation accuracy (BN recalibrated)."""
    x, y = train_subset(data, options.max_train_samples)
    steps_per_epoch = math.ceil(len(y) / options.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=options.lr, weight_decay=options.weight_decay)
    sched = _cosine(opt, options.epochs * steps_per_epoch)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    with deterministic():
        for epoch in range(options.epochs):
            model.train()
            g = torch.Generator().manual_seed(derive_seed(seed, "epoch", epoch))
            perm = torch.randperm(len(yt), generator=g)
            for i in range(0, len(perm), options.batch_size):
                idx = perm[i:i + options.batch_size]
                if len(idx) < 2:
                    continue   # BatchNorm needs two samples
                loss = F.cross_entropy(model(xt[idx]), yt[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
        recalibrate_bn(model, x)
        return evaluate(model, data.x_val, data.y_val)


# -- supernet ----------------------------------------------------------------------------------
def sandwich(space, rng: np.random.Generator, n_random: int) -> list:  # type: ignore[no-untyped-def]
    """Largest, smallest and ``n_random`` random sub-networks: the sandwich rule."""
    return [space.largest(), space.smallest()] + [space.sample(rng) for _ in range(n_random)]


def train_supernet(supernet: nn.Module, source: DataSource, options: TrainOptions, seed: int,
                   ckpt_dir: Path, n_random: int = 2, progress: Progress | None = None) -> None:
    """Sandwich-rule training, resumable: ``ckpt_dir/epoch-<n>.pt`` after each epoch."""
    space = supernet.space
    tasks = {r: train_subset(source.at(r), options.max_train_samples) for r in space.resolutions}
    steps = math.ceil(len(tasks[max(space.resolutions)][1]) / options.batch_size)
    opt = torch.optim.AdamW(supernet.parameters(), lr=options.lr, weight_decay=options.weight_decay)
    sched = _cosine(opt, options.epochs * steps)
    start = 0
    done = sorted(ckpt_dir.glob("epoch-*.pt"), key=lambda p: int(p.stem.split("-")[1]))
    if done:
        try:
            state = torch.load(done[-1], map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - a checkpoint is written atomically; damage is external
            raise InputFileError(f"supernet checkpoint {done[-1]} is unreadable ({type(e).__name__})",
                                 "delete it; training resumes from the previous epoch") from None
        supernet.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        start = int(state["epoch"]) + 1
    with deterministic():
        for epoch in range(start, options.epochs):
            supernet.train()
            g = torch.Generator().manual_seed(derive_seed(seed, "supernet", epoch))
            perms = {r: torch.randperm(len(y), generator=g) for r, (_, y) in tasks.items()}
            rng = np.random.default_rng(derive_seed(seed, "sandwich", epoch))
            total = 0.0
            for step in range(steps):
                loss = torch.zeros(())
                for arch in sandwich(space, rng, n_random):
                    x, y = tasks[arch.resolution]
                    perm = perms[arch.resolution]
                    lo = (step * options.batch_size) % max(len(perm) - options.batch_size, 1)
                    idx = perm[lo:lo + options.batch_size]
                    loss = loss + F.cross_entropy(supernet.forward_arch(torch.from_numpy(x[idx.numpy()]), arch),
                                                  torch.from_numpy(y[idx.numpy()]))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach())
            _save_ckpt(ckpt_dir / f"epoch-{epoch}.pt", supernet, opt, sched, epoch)
            for old in ckpt_dir.glob("epoch-*.pt"):
                if int(old.stem.split("-")[1]) < epoch:
                    old.unlink()
            if progress:
                progress(f"supernet epoch {epoch + 1}/{options.epochs}: loss {total / steps:.3f}")


def _save_ckpt(path: Path, model: nn.Module, opt: torch.optim.Optimizer, sched: object, epoch: int) -> None:
    import io

    from edgekit.core.artifact import atomic_write_bytes

    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "epoch": epoch}, buf)  # type: ignore[attr-defined]
    atomic_write_bytes(path, buf.getvalue())


class SubnetScorer:
    """Validation accuracy of sub-networks with inherited weights (BN recalibrated), cached by key."""

    def __init__(self, supernet: nn.Module, source: DataSource, cache: dict[str, float], archs: dict[str, object],
                 calib_samples: int = 512, max_train_samples: int | None = None) -> None:
        self.supernet = supernet
        self.source = source
        self.cache = cache
        self.archs = archs
        self.calib_samples = calib_samples
        self.max_train_samples = max_train_samples
        self.evaluated = 0

    def score(self, arch) -> float:  # type: ignore[no-untyped-def]
        key = arch.key
        if key not in self.cache:
            data = self.source.at(arch.resolution)
            x, _ = train_subset(data, self.max_train_samples)
            with deterministic():
                model = self.supernet.extract(arch)
                recalibrate_bn(model, x, self.calib_samples)
                self.cache[key] = evaluate(model, data.x_val, data.y_val)
            self.archs[key] = arch
            self.evaluated += 1
        return self.cache[key]
