"""Fixtures of the LUT unit tests: the synthetic device (lut_fakes) and one table built on it,
shared by the tests that only read it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def load_fakes():  # noqa: ANN201
    import sys

    name = "edgekit_tests_lut_fakes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _HERE / "lut_fakes.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


@pytest.fixture(scope="session")
def fakes():  # noqa: ANN201
    return load_fakes()


@pytest.fixture(scope="module")
def fake_lut(tmp_path_factory, fakes):  # noqa: ANN001, ANN201
    """(table, report) of a synthetic device: a Sobol start of 160 and one refinement round."""
    from edgekit.lut.build import BuildOptions, build_lut
    from edgekit.lut.table import LutTable

    root = tmp_path_factory.mktemp("fake-lut")
    table = LutTable(root, "fake-linux")
    report = build_lut(fakes.FakeBackend(root), table, "linux",
                       BuildOptions(start=160, arch_archs=3, zoo=False, max_rounds=1, refine_worst=6, refine_neighbours=2))
    return table, report
