"""Fixtures for the convert tests: real data, small networks trained for a few seconds.

The networks that back fidelity assertions are trained on real data (scikit-learn's 8x8 digits,
the ST HAR accelerometer windows) so that "int8 agrees with float on >= 99 % of >= 200 held-out
samples" says something about quantization, not about a random network's near-uniform logits.
"""

from __future__ import annotations

import importlib.util
import socket
import textwrap
from pathlib import Path

import numpy as np
import pytest

HELD_OUT = 400   # digits samples kept out of training and calibration

# A PyTorch digits classifier: conv, BN, ReLU6, depthwise conv, residual add, pooling, linear.
# Written to a file so the CLI can load it as file.py:factory; weights sit beside it (.pt).
DIGITS_CNN_SOURCE = textwrap.dedent('''
    from pathlib import Path

    import torch
    from torch import nn


    class DigitsNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
            self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), nn.BatchNorm2d(16),
                                    nn.ReLU6())
            self.pw = nn.Sequential(nn.Conv2d(16, 16, 1, bias=False), nn.BatchNorm2d(16))
            self.pool = nn.AvgPool2d(2)
            self.fc = nn.Linear(16 * 4 * 4, 10)

        def forward(self, x):
            y = self.stem(x)
            y = nn.functional.relu6(y + self.pw(self.dw(y)))
            return self.fc(torch.flatten(self.pool(y), 1))


    def untrained():
        torch.manual_seed(0)
        return DigitsNet().eval()


    def trained():
        model = DigitsNet()
        model.load_state_dict(torch.load(Path(__file__).with_suffix(".pt"), weights_only=True))
        return model.eval()
''')


@pytest.fixture(autouse=True)
def _quiet_tensorflow(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def user_cwd(tmp_path, monkeypatch) -> Path:
    """An empty working directory: conversions must leave nothing in it."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection or resolve a name fails the test."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise OSError("network access attempted during conversion")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


@pytest.fixture(scope="session")
def digits() -> dict[str, np.ndarray]:
    """8x8 digits in [0, 1], NCHW; a fixed permutation, the last HELD_OUT samples held out."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images.astype(np.float32) / 16.0)[:, None]
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], bunch.target[order].astype(np.int64)
    return {"x_train": x[:-HELD_OUT], "y_train": y[:-HELD_OUT], "x_test": x[-HELD_OUT:], "y_test": y[-HELD_OUT:]}


def _train_torch(model, x: np.ndarray, y: np.ndarray, epochs: int, lr: float = 2e-2, batch: int = 128):
    """Adam on cross-entropy. One thread: for networks this small, more threads only add overhead
    (on a busy 2-core machine, 2 threads were 6x slower)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_loop(model, x, y, epochs, lr, batch)
    finally:
        torch.set_num_threads(threads)


def _train_loop(model, x: np.ndarray, y: np.ndarray, epochs: int, lr: float, batch: int):
    import torch

    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(xt))
        for i in range(0, len(xt), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
    return model.eval()


def _torch_accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


@pytest.fixture(scope="session")
def torch_trainer():
    """(train(model, x, y, epochs) -> model, accuracy(model, x, y) -> float)."""
    return _train_torch, _torch_accuracy


@pytest.fixture(scope="session")
def digits_cnn_file(tmp_path_factory, digits, torch_trainer) -> Path:
    """net.py (factories `trained`, `untrained`) + net.pt: the DigitsNet trained for ~3 s."""
    import importlib.util

    import torch

    folder = tmp_path_factory.mktemp("digits_cnn")
    src = folder / "net.py"
    src.write_text(DIGITS_CNN_SOURCE)
    spec = importlib.util.spec_from_file_location("digits_net_for_training", src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = _train_torch(mod.DigitsNet(), digits["x_train"], digits["y_train"], epochs=10)
    acc = _torch_accuracy(model, digits["x_test"], digits["y_test"])
    assert acc > 0.9, f"the digits CNN trained to only {acc:.2f}; the fidelity tests need a real classifier"
    torch.save(model.state_dict(), src.with_suffix(".pt"))
    return src


@pytest.fixture(scope="session")
def har():
    from edgekit.datasets.har import default_har_dir, load_har

    if not default_har_dir().is_dir():
        pytest.skip(f"HAR dataset not found at {default_har_dir()} (shared assets absent)")
    return load_har(window_len=26, stride=13)
