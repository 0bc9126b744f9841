"""A cell search space in the style of NAS-Bench-201, for comparison with the literature.

A cell is a DAG of 4 nodes; each of its 6 edges (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2) carries one of
none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3 (15,625 cells); architectures print
in NAS-Bench-201's string form ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``. Edges that cannot reach the
output are set to "none" when decoding (the converter drops them), so each network has one key. The macro skeleton is
NAS-Bench-201's (stem 3x3 conv + BN; three stages of N cells at C, 2C, 4C channels separated by
residual reduction blocks; BN + ReLU, global pooling, classifier), scaled down for
microcontrollers (C = 8, N = 1 by default), with "nor_conv" = ReLU -> conv -> BN. 1-D inputs use
(k, 1) kernels on (N, C, T, 1). A cell whose output is cut off from its input (only "none" on
every path) is repaired by making edge 3<-0 a skip connection, so every genome is a network.

Accuracy figures are this edgekit implementation's, trained here; they are not NAS-Bench-201's
CIFAR numbers.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from edgekit.core.errors import UsageError
from edgekit.nas.space import FEATURES, input_shape, kernel_shape, same_out

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))   # (to, from)


@dataclass(frozen=True)
class NB201Arch:
    ops: tuple[str, ...]            # one per edge, in EDGES order
    resolution: int

    def label(self) -> str:
        o = self.ops
        return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"

    @property
    def key(self) -> str:
        return hashlib.sha256(f"nb201:{self.resolution}:{self.label()}".encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        return {"ops": list(self.ops), "resolution": self.resolution}

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> "NB201Arch":
        return NB201Arch(tuple(d["ops"]), int(d["resolution"]))


def live_ops(ops: Sequence[str]) -> list[str]:
    """The cell with every edge that cannot affect the output set to "none" (an edge out of a node
    the input never reaches, or into a node that never reaches the output): such edges are dead
    code that the converter drops, so two cells differing only there are one network."""
    fed = {0}
    for (to, frm), op in zip(EDGES, ops):
        if op != "none" and frm in fed:
            fed.add(to)
    feeds = {3}
    for (to, frm), op in reversed(list(zip(EDGES, ops))):
        if op != "none" and to in feeds:
            feeds.add(frm)
    return [op if (frm in fed and to in feeds) else "none" for (to, frm), op in zip(EDGES, ops)]


def reaches_output(ops: Sequence[str]) -> bool:
    live = {0}
    for (to, frm), op in zip(EDGES, ops):
        if op != "none" and frm in live:
            live.add(to)
    return 3 in live


@dataclass(frozen=True)
class NB201Space:
    name: str
    dims: str
    in_channels: int
    num_classes: int
    resolution: int
    channels: int = 8
    cells_per_stage: int = 1
    kind: str = "nb201"

    @staticmethod
    def for_data(source: Any) -> "NB201Space":
        return NB201Space(f"nb201-{source.dims}", source.dims, source.in_channels, source.num_classes,
                          source.native_resolution)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> "NB201Space":
        return NB201Space(**dict(d))

    @property
    def resolutions(self) -> tuple[int, ...]:
        return (self.resolution,)

    def input_shape(self, resolution: int) -> tuple[int, int, int, int]:
        return input_shape(self.dims, self.in_channels, resolution)

    def kernel_shape(self, k: int) -> tuple[int, int]:
        return kernel_shape(self.dims, k)

    def area(self, side: int) -> int:
        return side if self.dims == "1d" else side * side

    # -- genome -----------------------------------------------------------------------------
    def gene_choices(self) -> list[tuple[str, tuple]]:
        return [(f"edge{to}<-{frm}", OPS) for to, frm in EDGES]

    @property
    def n_genes(self) -> int:
        return len(EDGES)

    def upper_bounds(self) -> np.ndarray:
        return np.full(len(EDGES), len(OPS) - 1, dtype=int)

    def decode(self, genes: Sequence[int]) -> NB201Arch:
        g = [int(x) for x in genes]
        if len(g) != len(EDGES) or any(x < 0 or x >= len(OPS) for x in g):
            raise UsageError(f"genome {g} is not a NAS-Bench-201 cell (6 genes in 0..4)")
        ops = [OPS[x] for x in g]
        if not reaches_output(ops):
            ops[3] = "skip_connect"      # repair: see the module docstring
        return NB201Arch(tuple(live_ops(ops)), self.resolution)

    def encode(self, arch: NB201Arch) -> tuple[int, ...]:
        self.check(arch)
        return tuple(OPS.index(o) for o in arch.ops)

    def canonical(self, genes: Sequence[int]) -> tuple[int, ...]:
        return self.encode(self.decode(genes))

    def check(self, arch: NB201Arch) -> None:
        if len(arch.ops) != len(EDGES) or any(o not in OPS for o in arch.ops) or not reaches_output(arch.ops):
            raise UsageError(f"{arch.label()} is not a connected NAS-Bench-201 cell")
        if arch.resolution != self.resolution:
            raise UsageError(f"resolution {arch.resolution} is not the space's {self.resolution}")

    def smallest(self) -> NB201Arch:
        return self.decode([0, 0, 0, 1, 0, 0])        # input straight to the output

    def largest(self) -> NB201Arch:
        return self.decode([OPS.index("nor_conv_3x3")] * len(EDGES))

    def sample(self, rng: np.random.Generator) -> NB201Arch:
        return self.decode([int(rng.integers(0, len(OPS))) for _ in EDGES])

    # -- costs --------------------------------------------------------------------------------
    def _stages(self) -> list[tuple[int, int]]:
        """(channels, side) of each stage."""
        side, out = self.resolution, []
        for s in range(3):
            out.append((self.channels * 2 ** s, side))
            side = same_out(side, 2)
        return out

    def features(self, arch: NB201Arch) -> dict[str, float]:
        """Cost terms by operator kind (edgekit.nas.space.KINDS) of the int8 graph."""
        t = {f: 0.0 for f in FEATURES}
        kk = 1 if self.dims == "1d" else 2

        def conv(a: int, cin: int, cout: int, taps: int) -> None:
            kind = "pw" if taps == 1 else "conv"
            t[f"{kind}_macs"] += a * cin * cout * taps
            t[f"{kind}_out"] += a * cout
            t[f"{kind}_pix"] += a
            t[f"{kind}_n"] += 1

        def relu(elems: int) -> None:
            t["act_elems"] += elems
            t["act_n"] += 1

        def add(elems: int, n: int = 1) -> None:
            t["add_elems"] += elems * n
            t["add_n"] += n

        conv(self.area(self.resolution), self.in_channels, self.channels, 3 ** kk)
        stages = self._stages()
        for s, (c, side) in enumerate(stages):
            a = self.area(side)
            for _ in range(self.cells_per_stage):
                present = {0}
                for (to, frm), op in zip(EDGES, arch.ops):
                    if op == "none" or frm not in present:
                        continue
                    present.add(to)
                    if op in ("nor_conv_1x1", "nor_conv_3x3"):
                        relu(a * c)
                        conv(a, c, c, 1 if op == "nor_conv_1x1" else 3 ** kk)
                    elif op == "avg_pool_3x3":
                        t["avgpool_taps"] += a * c * 3 ** kk
                        t["avgpool_out"] += a * c
                        t["avgpool_n"] += 1
                for node in (1, 2, 3):
                    fan_in = sum(1 for (to, frm), op in zip(EDGES, arch.ops) if to == node and op != "none")
                    add(a * c, max(fan_in - 1, 0))
            if s < 2:    # residual reduction block to the next stage
                c2, side2 = stages[s + 1]
                a2 = self.area(side2)
                relu(a * c)
                conv(a2, c, c2, 3 ** kk)
                relu(a2 * c2)
                conv(a2, c2, c2, 3 ** kk)
                conv(a2, c, c2, 1)
                add(a2 * c2)
        c_last, side_last = stages[-1]
        a_last = self.area(side_last)
        add(a_last * c_last)             # the last BatchNorm (a MUL, then this ADD) and its ReLU
        relu(a_last * c_last)
        t["mean_elems"] += a_last * c_last
        t["mean_n"] += 1
        t["fc_macs"] += c_last * self.num_classes
        t["fc_n"] += 1
        return t

    def memory_estimate(self, arch: NB201Arch) -> dict[str, int]:
        kk = 1 if self.dims == "1d" else 2
        weights = self.channels * (self.in_channels * 3 ** kk + 12)
        peak = 0
        stages = self._stages()
        for s, (c, side) in enumerate(stages):
            a = self.area(side)
            for op in arch.ops:
                if op == "nor_conv_3x3":
                    weights += c * c * 3 ** kk + 12 * c
                elif op == "nor_conv_1x1":
                    weights += c * c + 12 * c
            peak = max(peak, 5 * a * c)     # up to four node tensors live plus an op's output
            if s < 2:
                c2 = stages[s + 1][0]
                weights += c2 * c * 3 ** kk + c2 * c2 * 3 ** kk + c2 * c + 36 * c2
        weights += stages[-1][0] * self.num_classes + 4 * self.num_classes
        return {"weights_bytes": weights, "arena_bytes": peak}
