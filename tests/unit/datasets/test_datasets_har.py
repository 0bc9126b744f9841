from __future__ import annotations

import numpy as np
import pytest

from edgekit.core.errors import InputFileError, UsageError
from edgekit.datasets import default_har_dir, load_har, make_windows, read_recordings


def test_make_windows_starts_a_window_every_stride_samples():
    samples = np.arange(20, dtype=np.float32).reshape(10, 2)
    w = make_windows(samples, window_len=4, stride=3)
    assert w.shape == (3, 4, 2)   # starts 0, 3, 6; a start at 9 would run past the end
    for k, start in enumerate((0, 3, 6)):
        np.testing.assert_array_equal(w[k], samples[start:start + 4])
    assert make_windows(samples, window_len=11, stride=1).shape == (0, 11, 2)
    with pytest.raises(UsageError):
        make_windows(samples, window_len=0, stride=1)


def test_real_dataset_windows_cover_every_recording_once(har_dir):
    recordings = read_recordings(har_dir)
    assert {r.label for r in recordings} == {0, 1, 2}
    d = load_har(path=har_dir, window_len=52, stride=26)
    expected_windows = sum((r.samples_mg.shape[0] - 52) // 26 + 1 for r in recordings)
    assert len(d.train) + len(d.val) + len(d.test) == expected_windows
    for split in (d.train, d.val, d.test):
        assert split.x.dtype == np.float32 and split.x.shape[1:] == (52, 3)
        assert split.y.dtype == np.int64 and set(np.unique(split.y)) == {0, 1, 2}
    assert d.class_names == ("stationary", "walking", "running") and d.sample_rate_hz == 26


def test_split_is_by_recording_so_no_recording_feeds_two_splits(har_dir):
    d = load_har(path=har_dir)
    files = [set(d.train_files), set(d.val_files), set(d.test_files)]
    assert not (files[0] & files[1] or files[0] & files[2] or files[1] & files[2])
    all_files = {r.path.relative_to(har_dir).as_posix() for r in read_recordings(har_dir)}
    assert files[0] | files[1] | files[2] == all_files
    # Window counts per split follow from the files assigned to it.
    per_file = {r.path.relative_to(har_dir).as_posix(): (r.samples_mg.shape[0] - 52) // 26 + 1
                for r in read_recordings(har_dir)}
    assert len(d.test) == sum(per_file[f] for f in d.test_files)


def test_split_is_deterministic_in_the_seed(har_dir):
    a, b, c = load_har(path=har_dir, seed=0), load_har(path=har_dir, seed=0), load_har(path=har_dir, seed=1)
    assert a.test_files == b.test_files
    np.testing.assert_array_equal(a.train.x, b.train.x)
    assert a.test_files != c.test_files


def test_default_path_is_the_shared_assets_copy(har_dir):
    if default_har_dir().resolve() != har_dir.resolve():
        pytest.skip("assets found through another path than the library default")
    np.testing.assert_array_equal(load_har().test.x, load_har(path=har_dir).test.x)


def test_raw_windows_are_the_csv_rows_in_mg(synthetic_har):
    d = load_har(path=synthetic_har, window_len=10, stride=10, center_windows=False, normalization="none",
                 val_fraction=0.25, test_fraction=0.25)
    first = d.train_files[0]
    rows = np.loadtxt(synthetic_har / first, delimiter=",", dtype=np.float32)
    np.testing.assert_array_equal(d.train.x[0], rows[:10])
    np.testing.assert_array_equal(d.train.x[1], rows[10:20])
    assert len(d.train) == 10 * len(d.train_files)
    g = load_har(path=synthetic_har, window_len=10, stride=10, center_windows=False, normalization="g",
                 val_fraction=0.25, test_fraction=0.25)
    np.testing.assert_allclose(g.train.x, d.train.x / 1000, rtol=1e-6)


def test_centering_and_standardisation_use_training_statistics_only(synthetic_har):
    kwargs = dict(path=synthetic_har, window_len=10, stride=5, val_fraction=0.25, test_fraction=0.25)
    raw = load_har(center_windows=True, normalization="none", **kwargs)
    np.testing.assert_allclose(raw.train.x.mean(axis=1), 0, atol=1e-4)
    std = load_har(center_windows=True, normalization="standard", **kwargs)
    flat = raw.train.x.reshape(-1, 3)
    np.testing.assert_allclose(std.offset_mg, flat.mean(axis=0), atol=1e-4)
    # The constant z axis has no spread: it is left unscaled rather than divided by zero.
    np.testing.assert_allclose(std.scale_mg[:2], flat.std(axis=0)[:2], rtol=1e-5)
    assert std.scale_mg[2] == 1.0
    for split_raw, split_std in ((raw.train, std.train), (raw.test, std.test)):
        np.testing.assert_allclose(split_std.x, (split_raw.x - std.offset_mg) / std.scale_mg, rtol=1e-5, atol=1e-6)


def test_missing_folder_is_an_input_file_error_with_a_hint(tmp_path):
    with pytest.raises(InputFileError) as info:
        load_har(path=tmp_path / "nowhere")
    assert "stationary/" in info.value.hint and "nowhere" in info.value.message


def test_missing_class_folder_and_bad_csv_are_input_file_errors(synthetic_har):
    (synthetic_har / "running" / "running_00_26Hz_4g_mg.csv").write_text("1, 2\n3, 4\n")
    with pytest.raises(InputFileError) as info:
        load_har(path=synthetic_har)
    assert "running_00" in info.value.message
    for f in (synthetic_har / "running").glob("*.csv"):
        f.unlink()
    with pytest.raises(InputFileError) as info:
        load_har(path=synthetic_har)
    assert "running/*.csv" in info.value.message


def test_bad_arguments_are_usage_errors(synthetic_har):
    with pytest.raises(UsageError):
        load_har(path=synthetic_har, normalization="minmax")   # type: ignore[arg-type]
    with pytest.raises(UsageError):
        load_har(path=synthetic_har, val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(UsageError):
        load_har(path=synthetic_har, window_len=101)
