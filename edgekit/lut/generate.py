"""Turn configurations into .tflite files, cached by configuration key.

Linux devices measure one model per variant (one upload carries many of them through one SSH
session). Microcontroller boards measure *batches*: many variants as independent branches of one
graph (each branch its own input and output), built into one firmware with per-layer timing, so
one flash measures every kernel of the batch. Models do not depend on the device: the cache
under ``<lut root>/models`` serves every device.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from edgekit.core.artifact import atomic_write_bytes
from edgekit.lut.space import Config, family, variant_bytes
from edgekit.lut.writer import GraphWriter


@dataclass(frozen=True)
class Member:
    config: Config
    variant: str

    @property
    def key(self) -> str:
        return f"{self.config.key}-{self.variant}"


@dataclass(frozen=True)
class Batch:
    path: Path
    members: tuple[Member, ...]
    op_ranges: tuple[tuple[int, int], ...]   # per member: [first, last) operator index in the batch graph


def model_path(root: Path, config: Config, variant: str) -> Path:
    """The cached .tflite of one variant (written on first use)."""
    p = root / "models" / config.family / f"{config.key}-{variant}.tflite"
    if not p.is_file():
        atomic_write_bytes(p, variant_bytes(config, variant))
    return p


@dataclass(frozen=True)
class _Size:
    act_bytes: int
    weight_bytes: int
    output_bytes: int
    macs: int


def _size(config: Config, variant: str) -> _Size:
    """What one variant costs a batch (int8: one byte per element)."""
    from edgekit.lut.signatures import graph_signatures
    from edgekit.tflite.reader import read_tflite_bytes

    g = read_tflite_bytes(variant_bytes(config, variant), "probe")
    return _Size(sum(t.num_elements for t in g.tensors if not t.is_constant),
                 sum(t.nbytes for t in g.tensors if t.is_constant),
                 sum(g.tensor(i).nbytes for i in g.outputs), sum(s.macs for s in graph_signatures(g)))


@dataclass(frozen=True)
class BatchLimits:
    members: int = 64
    act_bytes: int = 1_200_000      # arena: the board has 4 MiB, every branch input is live at once
    weight_bytes: int = 1_500_000
    output_bytes: int = 48_000      # read back over the emulated UART (~200 KB/s) to check bit-exactness
    macs: int = 80_000_000          # a second or two of emulation


def make_batches(members: list[Member], root: Path, limits: BatchLimits = BatchLimits()) -> list[Batch]:
    """Pack members into batch graphs within the limits; a member larger than a limit gets a batch
    of its own (the firmware build refuses it loudly if it does not fit the board)."""
    groups: list[list[Member]] = []
    cur: list[Member] = []
    tot = _Size(0, 0, 0, 0)
    for m in members:
        if m.config.family == "arch":   # a whole model: alone, so that its memory plan is its own
            groups.append([m])
            continue
        z = _size(m.config, m.variant)
        nxt = _Size(tot.act_bytes + z.act_bytes, tot.weight_bytes + z.weight_bytes,
                    tot.output_bytes + z.output_bytes, tot.macs + z.macs)
        if cur and (len(cur) >= limits.members or nxt.act_bytes > limits.act_bytes
                    or nxt.weight_bytes > limits.weight_bytes or nxt.output_bytes > limits.output_bytes
                    or nxt.macs > limits.macs):
            groups.append(cur)
            cur, nxt = [], z
        cur.append(m)
        tot = nxt
    if cur:
        groups.append(cur)
    return [_write_batch(g, root) for g in groups]


def _write_batch(members: list[Member], root: Path) -> Batch:
    bkey = hashlib.sha256("|".join(m.key for m in members).encode()).hexdigest()[:16]
    w = GraphWriter(seed=int(bkey[:8], 16), name=f"lut-batch:{bkey}")
    ranges = []
    for m in members:
        first = len(w.operators)
        family(m.config.family).build(w, m.config.p, m.variant)
        ranges.append((first, len(w.operators)))
    path = root / "models" / "batches" / f"batch-{bkey}.tflite"
    if not path.is_file():
        atomic_write_bytes(path, w.finish())
    return Batch(path, tuple(members), tuple(ranges))
