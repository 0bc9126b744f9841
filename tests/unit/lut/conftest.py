"""Fixtures of the LUT unit tests: the synthetic device (lut_fakes) and one table built on it,
shared by the tests that only read it."""

from __future__ import annotations

from pathlib import Path

import pytest
from _support import load_module

_HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def fakes():  # noqa: ANN201
    return load_module("edgekit_tests_lut_fakes", _HERE / "lut_fakes.py")


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
