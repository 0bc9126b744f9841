"""Candidate training and conversion through Ray (a real local Ray cluster started by the test):
the same jobs give byte-identical int8 models and the same accuracies as the in-process executor,
so where a search's jobs ran never changes its result."""

from __future__ import annotations

import os

import numpy as np
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ray = pytest.importorskip("ray", reason="Ray is the extra edgekit[scale]; `make setup` installs it")


@pytest.fixture(scope="module")
def ray_local():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _jobs(root, n):
    from edgekit.nas.candidate import CandidateJob
    from edgekit.nas.data import open_data
    from edgekit.nas.run import make_space
    from edgekit.nas.train import TrainOptions

    space = make_space("mcu-ir-tiny", open_data("digits"))
    rng = np.random.default_rng(5)
    archs = [space.sample(rng) for _ in range(n)]
    train = TrainOptions(epochs=1, max_train_samples=300)
    return [CandidateJob(str(root / a.key), space.to_json(), a.to_json(), "digits", train, seed=3,
                         calib_samples=50, eval_samples=100) for a in archs]


def test_ray_executor_gives_the_local_result(ray_local, tmp_path):
    from edgekit.core.artifact import sha256_file
    from edgekit.nas.candidate import prepare_candidate
    from edgekit.nas.scale import LocalExecutor, RayExecutor, describe

    executor = RayExecutor()            # joins the cluster this test started
    assert describe(executor) == "ray"
    via_ray = executor.map(prepare_candidate, _jobs(tmp_path / "ray", 2))
    local = LocalExecutor().map(prepare_candidate, _jobs(tmp_path / "local", 2))
    assert len(via_ray) == 2
    for r, l in zip(via_ray, local):
        assert r["tflite"] != l["tflite"]                              # two folders, two runs
        assert sha256_file(r["tflite"]) == sha256_file(l["tflite"])   # the same int8 model, byte for byte
        for k in ("float_val_acc", "int8_val_acc"):
            assert r[k] == l[k]
    pids = executor.map(lambda _j: os.getpid(), [0, 1])   # (a lambda travels by value) the jobs run in Ray's worker processes
    assert os.getpid() not in pids
