"""Weight-sharing supernet of the inverted-residual space (Once-for-All style weight sharing).

One set of weights at the largest size: a smaller kernel is the centre of the largest kernel, fewer
channels are the first channels, a shallower stage skips its last blocks. The forward pass takes
one weight vector per decision of the space (``space.gene_choices()`` names): one-hot vectors run
exactly one sub-network, straight-through Gumbel-softmax samples let the differentiable strategy
push gradients into architecture parameters. Channels are masked after BatchNorm and activation,
and a masked kernel with the largest kernel's SAME padding computes the same as the small kernel
with its own SAME padding (odd kernels keep their centre), so a one-hot forward equals the
materialised sub-network (``extract``) to float rounding. The input resolution is the batch's own.

Training follows the sandwich rule (BigNAS / Once-for-All's elastic stage): each step trains the
largest, the smallest and a few random sub-networks. A sub-network is scored with its inherited
weights after recalibrating its BatchNorm statistics on training data (``SubnetScorer``).
"""

from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from edgekit.nas.materialize import BN_EPS, BN_MOMENTUM, IRNet, same_pad
from edgekit.nas.space import IRArch, IRSpace


def _bn(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=BN_EPS, momentum=BN_MOMENTUM)


def _prefix_masks(counts: list[int], size: int) -> torch.Tensor:
    m = torch.zeros(len(counts), size)
    for i, c in enumerate(counts):
        m[i, :c] = 1.0
    return m


def _pad_same(x: torch.Tensor, kernel: tuple[int, int], stride: int) -> torch.Tensor:
    _, top, bottom = same_pad(x.shape[2], kernel[0], stride)
    _, left, right = same_pad(x.shape[3], kernel[1], stride)
    if top or bottom or left or right:
        x = F.pad(x, (left, right, top, bottom))
    return x


class SuperBlock(nn.Module):
    def __init__(self, space: IRSpace, cin_counts: list[int], cout_counts: list[int], stride: int) -> None:
        super().__init__()
        self.space = space
        kmax, emax = max(space.kernels), max(space.expansions)
        self.cin_max, self.cout_max = max(cin_counts), max(cout_counts)
        self.hidden_max = self.cin_max * emax
        self.stride = stride
        self.kernel = space.kernel_shape(kmax)
        self.expand = nn.Conv2d(self.cin_max, self.hidden_max, 1, bias=False) if emax > 1 else None
        self.expand_bn = _bn(self.hidden_max) if emax > 1 else None
        self.dw = nn.Conv2d(self.hidden_max, self.hidden_max, self.kernel, stride, groups=self.hidden_max, bias=False)
        self.dw_bn = _bn(self.hidden_max)
        self.project = nn.Conv2d(self.hidden_max, self.cout_max, 1, bias=False)
        self.project_bn = _bn(self.cout_max)
        # hidden[a, i]: channels of the hidden layer for input width a and expansion i
        hidden = torch.zeros(len(cin_counts), len(space.expansions), self.hidden_max)
        for a, c in enumerate(cin_counts):
            for i, e in enumerate(space.expansions):
                hidden[a, i, : c * e] = 1.0
        self.register_buffer("hidden_masks", hidden, persistent=False)
        kmasks = torch.zeros(len(space.kernels), *self.kernel)
        for j, k in enumerate(space.kernels):
            lo = (kmax - k) // 2
            if space.dims == "1d":
                kmasks[j, lo:lo + k, :] = 1.0
            else:
                kmasks[j, lo:lo + k, lo:lo + k] = 1.0
        self.register_buffer("kernel_masks", kmasks, persistent=False)
        self.register_buffer("expands", torch.tensor([1.0 if e > 1 else 0.0 for e in space.expansions]),
                             persistent=False)

    def forward(self, x: torch.Tensor, w_cin: torch.Tensor, w_e: torch.Tensor, w_k: torch.Tensor,
                out_mask: torch.Tensor) -> torch.Tensor:
        per_e = torch.einsum("a,aic->ic", w_cin, self.hidden_masks)          # (n_e, hidden_max)
        hidden_mask = (w_e[:, None] * per_e).sum(0)
        plain = (w_e * (1.0 - self.expands)).sum()          # weight of expansion 1: the input itself
        pad = self.hidden_max - self.cin_max
        h = plain * (F.pad(x, (0, 0, 0, 0, 0, pad)) if pad else x)
        if self.expand is not None:
            grown = F.relu6(self.expand_bn(self.expand(x)))
            h = h + grown * ((w_e * self.expands)[:, None] * per_e).sum(0)[None, :, None, None]
        kmask = torch.einsum("j,jhw->hw", w_k, self.kernel_masks)
        y = F.conv2d(_pad_same(h, self.kernel, self.stride), self.dw.weight * kmask, None, self.stride,
                     groups=self.hidden_max)
        y = F.relu6(self.dw_bn(y)) * hidden_mask[None, :, None, None]
        return self.project_bn(self.project(y)) * out_mask[None, :, None, None]


class SuperNet(nn.Module):
    def __init__(self, space: IRSpace, seed: int = 0) -> None:
        super().__init__()
        self.space = space
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            ks = space.kernel_shape(space.stem_kernel)
            self.stem = nn.Conv2d(space.in_channels, space.stem_channels, ks, space.stem_stride, bias=False)
            self.stem_bn = _bn(space.stem_channels)
            self.stages = nn.ModuleList()
            prev = [space.stem_channels]
            for s in range(space.n_stages):
                cur = [space.channels(s, w) for w in space.widths]
                blocks = nn.ModuleList(
                    SuperBlock(space, prev if b == 0 else cur, cur, space.stage_strides[s] if b == 0 else 1)
                    for b in range(space.max_depth))
                self.stages.append(blocks)
                self.register_buffer(f"width_masks_{s}", _prefix_masks(cur, max(cur)), persistent=False)
                prev = cur
            self.fc = nn.Linear(max(prev), space.num_classes)

    def forward(self, x: torch.Tensor, w: Mapping[str, torch.Tensor]) -> torch.Tensor:
        sp = self.space
        ks = sp.kernel_shape(sp.stem_kernel)
        x = F.relu6(self.stem_bn(self.stem(_pad_same(x, ks, sp.stem_stride))))
        w_prev = x.new_ones(1)
        for s, blocks in enumerate(self.stages):
            w_width = w[f"s{s}.width"]
            out_mask = w_width @ getattr(self, f"width_masks_{s}")
            w_depth = w[f"s{s}.depth"]
            for b, block in enumerate(blocks):
                y = block(x, w_prev if b == 0 else w_width, w[f"s{s}.b{b}.expansion"], w[f"s{s}.b{b}.kernel"],
                          out_mask)
                if b == 0:
                    x = y
                else:
                    keep = sum(w_depth[i] for i, d in enumerate(sp.depths) if d > b)
                    x = x + keep * y
            w_prev = w_width
        return self.fc(x.mean(dim=(2, 3)))

    def one_hot(self, arch: IRArch) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(v).float() for k, v in self.space.one_hot(arch).items()}

    def forward_arch(self, x: torch.Tensor, arch: IRArch) -> torch.Tensor:
        return self(x, self.one_hot(arch))

    def extract(self, arch: IRArch) -> IRNet:
        return extract(self, arch)


def _copy_bn(dst: nn.BatchNorm2d, src: nn.BatchNorm2d, n: int) -> None:
    dst.weight.copy_(src.weight[:n])
    dst.bias.copy_(src.bias[:n])
    dst.running_mean.copy_(src.running_mean[:n])
    dst.running_var.copy_(src.running_var[:n])
    dst.num_batches_tracked.copy_(src.num_batches_tracked)


def _crop(weight: torch.Tensor, k: int, dims: str) -> torch.Tensor:
    kmax = weight.shape[2]
    lo = (kmax - k) // 2
    if dims == "1d":
        return weight[:, :, lo:lo + k, :]
    return weight[:, :, lo:lo + k, lo:lo + k]


@torch.no_grad()
def extract(supernet: SuperNet, arch: IRArch) -> IRNet:
    """The sub-network as a plain IRNet carrying the inherited weights (and BN statistics)."""
    sp = supernet.space
    net = IRNet(sp, arch)
    net.stem.conv.weight.copy_(supernet.stem.weight)
    _copy_bn(net.stem.bn, supernet.stem_bn, sp.stem_channels)
    cin = sp.stem_channels
    it = iter(net.blocks)
    for s, st in enumerate(arch.stages):
        cout = sp.channels(s, st.width)
        for b, (k, e) in enumerate(zip(st.kernels, st.expansions)):
            dst, src = next(it), supernet.stages[s][b]
            c = cin if b == 0 else cout
            hidden = c * e
            if e > 1:
                dst.expand.conv.weight.copy_(src.expand.weight[:hidden, :c])
                _copy_bn(dst.expand.bn, src.expand_bn, hidden)
            dst.dw.conv.weight.copy_(_crop(src.dw.weight[:hidden], k, sp.dims))
            _copy_bn(dst.dw.bn, src.dw_bn, hidden)
            dst.project.conv.weight.copy_(src.project.weight[:cout, :hidden])
            _copy_bn(dst.project.bn, src.project_bn, cout)
        cin = cout
    net.fc.weight.copy_(supernet.fc.weight[:, :cin])
    net.fc.bias.copy_(supernet.fc.bias)
    return net


def gumbel_hard(logits: torch.Tensor, tau: float, generator: torch.Generator) -> torch.Tensor:
    """Straight-through Gumbel-softmax: a one-hot forward, the soft sample's gradient."""
    u = torch.rand(logits.shape, generator=generator).clamp_(1e-9, 1 - 1e-9)
    soft = F.softmax((logits - torch.log(-torch.log(u))) / tau, dim=-1)
    hard = F.one_hot(soft.argmax(-1), soft.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft
