"""PyTorch networks of the NAS-Bench-201-style space: one architecture (``NB201Net``) and the
weight-sharing supernet (``NB201SuperNet``, single-path: every edge holds all five operations).

Differences from NAS-Bench-201's code, for microcontrollers and exact int8 conversion: convolutions
pad TF-"SAME" (edgekit.zoo convention), and the reduction block's shortcut is a strided 1x1
convolution (NAS-Bench-201 average-pools then convolves, which disagrees with SAME padding on odd
sizes). An edge whose source node receives nothing is dropped in both, so a one-hot supernet
forward equals the extracted network.
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from edgekit.nas.materialize import BN_EPS, BN_MOMENTUM, ConvBN
from edgekit.nas.nb201 import EDGES, OPS, NB201Arch, NB201Space


class NorConv(nn.Module):
    """ReLU -> conv -> BN (NAS-Bench-201's ReLUConvBN)."""

    def __init__(self, cin: int, cout: int, kernel: tuple[int, int], stride: int, hw: tuple[int, int]) -> None:
        super().__init__()
        self.relu = nn.ReLU()
        self.conv = ConvBN(cin, cout, kernel, (stride, stride), hw, act=False)
        self.out_hw = self.conv.out_hw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.relu(x))


def _pool(space: NB201Space) -> nn.Module:
    k, p = space.kernel_shape(3), ((1, 0) if space.dims == "1d" else (1, 1))
    return nn.AvgPool2d(k, 1, p, count_include_pad=False)


def make_op(op: str, space: NB201Space, c: int, hw: tuple[int, int]) -> nn.Module | None:
    if op == "none":
        return None
    if op == "skip_connect":
        return nn.Identity()
    if op == "avg_pool_3x3":
        return _pool(space)
    k = 1 if op == "nor_conv_1x1" else 3
    return NorConv(c, c, space.kernel_shape(k), 1, hw)


def _edge_name(to: int, frm: int) -> str:
    return f"{to}<-{frm}"


class Reduction(nn.Module):
    def __init__(self, space: NB201Space, cin: int, cout: int, hw: tuple[int, int]) -> None:
        super().__init__()
        self.a = NorConv(cin, cout, space.kernel_shape(3), 2, hw)
        self.b = NorConv(cout, cout, space.kernel_shape(3), 1, self.a.out_hw)
        self.shortcut = nn.Conv2d(cin, cout, 1, 2, bias=False)
        self.out_hw = self.a.out_hw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.b(self.a(x))


def _skeleton(module: nn.Module, space: NB201Space, make_cell) -> None:  # type: ignore[no-untyped-def]
    _, _, h, w = space.input_shape(space.resolution)
    module.stem = ConvBN(space.in_channels, space.channels, space.kernel_shape(3), (1, 1), (h, w), act=False)
    hw, c = module.stem.out_hw, space.channels
    layers: list[nn.Module] = []
    for s in range(3):
        layers += [make_cell(c, hw) for _ in range(space.cells_per_stage)]
        if s < 2:
            red = Reduction(space, c, 2 * c, hw)
            layers.append(red)
            hw, c = red.out_hw, 2 * c
    module.layers = nn.ModuleList(layers)
    module.last_bn = nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM)
    module.fc = nn.Linear(c, space.num_classes)


class Cell(nn.Module):
    def __init__(self, space: NB201Space, arch: NB201Arch, c: int, hw: tuple[int, int]) -> None:
        super().__init__()
        self.edges = nn.ModuleDict()
        present = {0}
        for (to, frm), op in zip(EDGES, arch.ops):
            m = make_op(op, space, c, hw)
            if m is not None and frm in present:
                self.edges[_edge_name(to, frm)] = m
                present.add(to)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: dict[int, torch.Tensor] = {0: x}
        for to, frm in EDGES:
            name = _edge_name(to, frm)
            if name in self.edges:
                y = self.edges[name](nodes[frm])
                nodes[to] = nodes[to] + y if to in nodes else y
        return nodes[3]


class NB201Net(nn.Module):
    def __init__(self, space: NB201Space, arch: NB201Arch) -> None:
        super().__init__()
        space.check(arch)
        _skeleton(self, space, lambda c, hw: Cell(space, arch, c, hw))
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        return self.fc(self.flatten(self.pool(self.relu(self.last_bn(x)))))


class SuperCell(nn.Module):
    def __init__(self, space: NB201Space, c: int, hw: tuple[int, int]) -> None:
        super().__init__()
        self.edges = nn.ModuleDict()
        for to, frm in EDGES:
            ops = [make_op(op, space, c, hw) or nn.Identity() for op in OPS]   # "none" never runs
            self.edges[_edge_name(to, frm)] = nn.ModuleList(ops)

    def forward(self, x: torch.Tensor, w: Mapping[str, torch.Tensor]) -> torch.Tensor:
        nodes: dict[int, torch.Tensor] = {0: x}
        for to, frm in EDGES:
            if frm not in nodes:
                continue
            weights = w[f"edge{to}<-{frm}"]
            for i, op in enumerate(OPS):
                if op == "none" or float(weights[i]) == 0.0:
                    continue
                y = weights[i] * self.edges[_edge_name(to, frm)][i](nodes[frm])
                nodes[to] = nodes[to] + y if to in nodes else y
        return nodes[3]


class NB201SuperNet(nn.Module):
    def __init__(self, space: NB201Space, seed: int = 0) -> None:
        super().__init__()
        self.space = space
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            _skeleton(self, space, lambda c, hw: SuperCell(space, c, hw))

    def forward(self, x: torch.Tensor, w: Mapping[str, torch.Tensor]) -> torch.Tensor:
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, w) if isinstance(layer, SuperCell) else layer(x)
        return self.fc(torch.relu(self.last_bn(x)).mean(dim=(2, 3)))

    def one_hot(self, arch: NB201Arch) -> dict[str, torch.Tensor]:
        out = {}
        for (to, frm), op in zip(EDGES, arch.ops):
            v = torch.zeros(len(OPS))
            v[OPS.index(op)] = 1.0
            out[f"edge{to}<-{frm}"] = v
        return out

    def forward_arch(self, x: torch.Tensor, arch: NB201Arch) -> torch.Tensor:
        return self(x, self.one_hot(arch))

    @torch.no_grad()
    def extract(self, arch: NB201Arch) -> NB201Net:
        net = NB201Net(self.space, arch)
        state = self.state_dict()
        own = net.state_dict()
        for name in own:
            src = name
            if name.startswith("layers.") and ".edges." in name:
                # layers.K.edges.<to<-frm>.<rest>  <-  layers.K.edges.<to<-frm>.<op index>.<rest>
                head, rest = name.split(".edges.", 1)
                edge, tail = rest.split(".", 1)
                to, frm = (int(v) for v in edge.split("<-"))
                op = arch.ops[EDGES.index((to, frm))]
                src = f"{head}.edges.{edge}.{OPS.index(op)}.{tail}"
            own[name].copy_(state[src])
        return net
