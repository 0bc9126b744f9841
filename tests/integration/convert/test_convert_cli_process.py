"""`edgekit convert` as a real process: what a user's terminal shows.

In-process tests cannot see what TensorFlow's C++ runtime and onnx2tf write straight to file
descriptors 1 and 2; these runs check that a failure is exactly one stderr line (even when the
failure happens after TensorFlow and onnx2tf were loaded), that --debug shows the hidden log and
the traceback, and that a success prints the table and nothing else.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[3]


def edgekit(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "EDGEKIT_DEBUG")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "edgekit.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory) -> Path:
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5)).eval()
    path = tmp_path_factory.mktemp("model") / "rgb.onnx"
    torch.onnx.export(net, (torch.zeros(1, 3, 8, 8),), str(path), dynamo=False, input_names=["image"])
    return path


def test_late_failure_is_one_clean_line(onnx_model, tmp_path):
    """The calibration check runs after onnx2tf and TensorFlow did their work (and their printing)."""
    np.save(tmp_path / "calib.npy", np.zeros((4, 3, 9, 9), np.float32))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    p = edgekit(["convert", str(onnx_model), "--calib", str(tmp_path / "calib.npy"), "-o", str(tmp_path / "out")], cwd)
    assert p.returncode == 6
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("error: --calib ") and "(N, 3, 8, 8)" in p.stderr
    assert list(cwd.iterdir()) == [] and not (tmp_path / "out").exists()


def test_debug_shows_the_log_and_the_traceback(tmp_path):
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(b"\x08\x07\x12\x04junk")  # starts like a ModelProto, then breaks off
    p = edgekit(["convert", str(cut), "--debug"], tmp_path)
    assert p.returncode == 3
    assert "Traceback" in p.stderr and p.stderr.rstrip().splitlines()[-1].startswith("error: ")
    p = edgekit(["convert", str(cut)], tmp_path)
    assert p.returncode == 3 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_success_prints_the_table_only(onnx_model, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    rng = np.random.default_rng(0)
    np.save(tmp_path / "calib.npy", rng.random((40, 3, 8, 8), dtype=np.float32))
    p = edgekit(["convert", str(onnx_model), "--calib", str(tmp_path / "calib.npy"), "-o", str(tmp_path / "out")], cwd)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    lines = p.stdout.splitlines()
    assert lines[0].startswith("wrote ") and "rgb_int8.fidelity.json" in lines[0]
    assert any("top-1 agree" in line for line in lines) and any("MACs" in line for line in lines)
    assert sorted(x.name for x in (tmp_path / "out").iterdir()) == [
        "rgb_float32.tflite", "rgb_int8.fidelity.json", "rgb_int8.tflite"]
    assert list(cwd.iterdir()) == []
