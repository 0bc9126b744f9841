"""Determinism of training: same seed, same weights; an interrupted supernet training resumed from
its checkpoint ends with the same weights as an uninterrupted one."""

from __future__ import annotations

import pytest
import torch

from edgekit.nas.space import IRSpace
from edgekit.nas.train import SubnetScorer, TrainOptions, train_classifier, train_supernet


def space() -> IRSpace:
    return IRSpace("t", "1d", 3, 3, (16, 24), stem_channels=4, stem_stride=2, stage_channels=(4, 8),
                   stage_strides=(1, 2), depths=(1, 2), widths=(0.5, 1.0), kernels=(3, 5), expansions=(1, 3))


def test_training_a_candidate_twice_gives_identical_weights(source):
    from edgekit.nas.materialize import build_model

    sp = space()
    arch = sp.largest()
    states, accs = [], []
    for _ in range(2):
        m = build_model(sp, arch, seed=5)
        accs.append(train_classifier(m, source.at(arch.resolution), TrainOptions(epochs=4, batch_size=16, lr=1e-2),
                                     seed=7))
        states.append(m.state_dict())
    assert accs[0] == accs[1]
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    assert accs[0] > 0.8      # three classes: learned well above chance (1/3)


def test_supernet_resume_equals_uninterrupted(source, tmp_path):
    from edgekit.nas.supernet import SuperNet

    sp = space()
    opts = TrainOptions(epochs=2, batch_size=32)
    a = SuperNet(sp, seed=0)
    train_supernet(a, source, opts, seed=1, ckpt_dir=tmp_path / "a")

    class Killed(Exception):
        pass

    def kill(_message: str) -> None:   # called after each epoch's checkpoint is on disk
        raise Killed

    b = SuperNet(sp, seed=0)
    with pytest.raises(Killed):
        train_supernet(b, source, opts, seed=1, ckpt_dir=tmp_path / "c", progress=kill)
    assert sorted(p.name for p in (tmp_path / "c").glob("epoch-*.pt")) == ["epoch-0.pt"]
    c = SuperNet(sp, seed=0)   # a new process: fresh weights, then the checkpoint
    train_supernet(c, source, opts, seed=1, ckpt_dir=tmp_path / "c")
    sa, sc = a.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sc[k]) for k in sa)
    assert sorted(p.name for p in (tmp_path / "c").glob("epoch-*.pt")) == ["epoch-1.pt"]
    # sub-network scores come from the shared weights, are cached, and repeat exactly
    scores: dict[str, float] = {}
    scorer = SubnetScorer(a, source, scores, {})
    first = [scorer.score(x) for x in (sp.smallest(), sp.largest())]
    assert set(scores) == {sp.smallest().key, sp.largest().key}
    again = SubnetScorer(c, source, {}, {})
    assert [again.score(x) for x in (sp.smallest(), sp.largest())] == first
