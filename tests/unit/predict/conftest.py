"""A predictor trained on the synthetic device of tests/unit/lut/lut_fakes.py, shared by the
predictor tests (building its LUT and training take ~20 s)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _support import load_module

_FAKES = Path(__file__).resolve().parents[1] / "lut" / "lut_fakes.py"


@pytest.fixture(scope="session")
def fakes():  # noqa: ANN201
    return load_module("edgekit_tests_lut_fakes", _FAKES)


def fake_profile(device_id: str = "fake-linux"):  # noqa: ANN201
    from edgekit.core.profile import DeviceProfile

    return DeviceProfile(id=device_id, path=Path(f"/nonexistent/{device_id}.toml"), name="synthetic device", kind="linux",
                         cpu="x86_64", clock_hz=None, ram_bytes=1 << 30, flash_bytes=1 << 30, emulated=False,
                         timing="wallclock")


def measured(fakes, items, cost=None):  # noqa: ANN001, ANN201
    from edgekit.predict.train import WholeModel
    from edgekit.tflite.reader import read_tflite

    out = []
    for i in items:
        g = read_tflite(i.path)
        out.append(WholeModel(i.name, g, (cost or fakes.graph_ms)(g), (f"fake-{i.name}",), i.source))
    return out


@pytest.fixture(scope="session")
def fake_trained(tmp_path_factory, fakes):  # noqa: ANN001, ANN201
    """(predictor, lut table, root, training models, held-out models) of the synthetic device."""
    from edgekit.lut.build import BuildOptions, build_lut
    from edgekit.lut.table import LutTable
    from edgekit.predict.train import train_predictor
    from edgekit.predict.wholesets import test_items, train_items

    root = tmp_path_factory.mktemp("fake-predict")
    table = LutTable(root, "fake-linux")
    build_lut(fakes.FakeBackend(root), table, "linux", BuildOptions(start=160, arch_archs=6, zoo=False, max_rounds=0))
    train = measured(fakes, train_items(24, root / "archs"))
    held_out = measured(fakes, test_items(30, root / "archs", converter=0, zoo=False))
    pred = train_predictor(table, train, fake_profile())
    return pred, table, root, train, held_out



@pytest.fixture(scope="session")
def helpers():  # noqa: ANN201
    from types import SimpleNamespace

    return SimpleNamespace(fake_profile=fake_profile, measured=measured)
