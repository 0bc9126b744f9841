"""Bad input: one clear line for missing data, wrong shapes, an unknown device, a reused directory."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from edgekit.core.errors import EdgekitError, InputFileError, ProfileError, ToolMissingError, UsageError
from edgekit.nas.data import open_data


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def test_npz_data_in_channels_last_layouts(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 20, 3)).astype(np.float32)
    y = np.arange(40) % 4
    src = open_data(_npz(tmp_path / "w.npz", x_train=x, y_train=y, x_test=x[:10], y_test=y[:10]))
    assert (src.dims, src.in_channels, src.num_classes, src.native_resolution) == ("1d", 3, 4, 20)
    d = src.at(20)
    assert d.x_train.shape == (34, 3, 20, 1) and d.x_val.shape == (6, 3, 20, 1)   # 15 % held out for choosing
    assert np.array_equal(d.x_test[0, :, :, 0], x[0].T)
    with pytest.raises(UsageError, match="only resolution 20"):
        src.at(32)
    img = rng.standard_normal((30, 8, 8, 1)).astype(np.float32)
    src2 = open_data(_npz(tmp_path / "i.npz", x_train=img, y_train=np.arange(30) % 2, x_test=img, y_test=np.arange(30) % 2,
                          x_val=img[:5], y_val=np.arange(5) % 2))
    assert (src2.dims, src2.in_channels) == ("2d", 1) and src2.at(8).x_val.shape == (5, 1, 8, 8)


@pytest.mark.parametrize("arrays,match", [
    ({"x_train": np.zeros((4, 5, 3)), "y_train": np.zeros(4, int), "x_test": np.zeros((2, 5, 3))}, "lacks array"),
    ({"x_train": np.zeros((4, 5)), "y_train": np.zeros(4, int), "x_test": np.zeros((2, 5)), "y_test": np.zeros(2, int)},
     "expected \\(N, T, C\\)"),
    ({"x_train": np.zeros((4, 5, 3)), "y_train": np.zeros(4, int), "x_test": np.zeros((2, 6, 3)),
      "y_test": np.zeros(2, int)}, "x_test samples are"),
    ({"x_train": np.zeros((4, 5, 3)), "y_train": np.zeros(3, int), "x_test": np.zeros((2, 5, 3)),
      "y_test": np.zeros(2, int)}, "y_train has shape"),
    ({"x_train": np.zeros((4, 6, 5, 1)), "y_train": np.zeros(4, int), "x_test": np.zeros((2, 6, 5, 1)),
      "y_test": np.zeros(2, int)}, "square"),
    ({"x_train": np.zeros((4, 5, 3)), "y_train": np.zeros(4), "x_test": np.zeros((2, 5, 3)),
      "y_test": np.zeros(2)}, "integer class labels"),
])
def test_wrong_npz_shapes_are_one_clear_line(tmp_path, arrays, match):
    with pytest.raises(InputFileError, match=match) as e:
        open_data(_npz(tmp_path / "bad.npz", **arrays))
    assert "\n" not in e.value.one_line()


def test_missing_data_and_unknown_data_kind(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        open_data(str(tmp_path / "nope.npz"))
    with pytest.raises(InputFileError, match="does not exist"):
        open_data(f"har:{tmp_path / 'no-such-folder'}")
    with pytest.raises(UsageError, match="unknown data"):
        open_data("cifar100")


def _invoke(argv: list[str]) -> EdgekitError:
    from edgekit.cli.search import SearchCommand

    cmd = SearchCommand()
    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    with pytest.raises(EdgekitError) as e:
        cmd.invoke(parser.parse_args(argv))
    assert "\n" not in e.value.one_line()
    return e.value


def test_cli_refuses_unknown_device_and_missing_data_in_one_line(tmp_path):
    e = _invoke(["--device", "qemu-m99", "--latency-ms", "5", "--out", str(tmp_path / "s"), "--quiet"])
    assert isinstance(e, ProfileError) and "unknown device 'qemu-m99'" in e.message and "qemu-m4" in e.hint
    e = _invoke(["--device", "qemu-m4", "--latency-ms", "5", "--data", str(tmp_path / "x.npz"), "--out",
                 str(tmp_path / "s"), "--quiet"])
    assert isinstance(e, InputFileError) and "x.npz" in e.message
    e = _invoke(["--device", "qemu-m4", "--latency-ms", "-1", "--out", str(tmp_path / "s"), "--quiet"])
    assert isinstance(e, UsageError) and "positive" in e.message
    e = _invoke(["--device", "localhost-ssh", "--latency-ms", "5", "--out", str(tmp_path / "s"), "--quiet"])
    assert isinstance(e, UsageError) and "microcontroller" in e.message
    assert not (tmp_path / "s" / "config.json").exists()    # refused before anything was written


def test_search_directory_refuses_another_search(tmp_path):
    from edgekit.nas.state import SearchDir

    SearchDir(tmp_path, {"latency_ms": 5.0, "seed": 0})
    SearchDir(tmp_path, {"latency_ms": 5.0, "seed": 0})     # the same search: continue
    with pytest.raises(UsageError, match="different latency_ms"):
        SearchDir(tmp_path, {"latency_ms": 3.0, "seed": 0})


def test_ray_is_optional_and_missing_ray_says_how_to_install(monkeypatch):
    import sys

    from edgekit.nas.scale import LocalExecutor, make_executor

    assert make_executor(False, None).map(lambda v: v * 2, [3, 1, 2]) == [6, 2, 4]
    assert isinstance(make_executor(False, None), LocalExecutor)
    monkeypatch.setitem(sys.modules, "ray", None)          # as on a machine without the extra
    with pytest.raises(ToolMissingError, match="Ray is not installed") as e:
        make_executor(True, None)
    assert "edgekit[scale]" in e.value.hint


def test_search_directory_accepts_its_own_config_with_tuples(tmp_path):
    from edgekit.nas.space import preset_space
    from edgekit.nas.state import SearchDir

    spec = {"space_spec": preset_space("mcu-ir", "1d", 3, 3, 52).to_json(), "out": tmp_path}
    SearchDir(tmp_path, spec)
    SearchDir(tmp_path, spec)
