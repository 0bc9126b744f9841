"""Calibration / held-out data: validation, layout, splitting (pure numpy, fast)."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit.convert.calib import HELD_OUT_FRACTION, load_samples, plan_samples, random_samples
from edgekit.convert.tfmodel import InputSpec, channels_last_perm
from edgekit.core.errors import CalibrationError, InputFileError

IMAGE = InputSpec("image", (1, 3, 4, 5), channels_last_perm(4))
SEQUENCE = InputSpec("seq", (1, 26, 3), None)


def test_channels_last_perm_and_layout():
    assert channels_last_perm(3) == (0, 2, 1)
    assert channels_last_perm(4) == (0, 2, 3, 1)
    assert channels_last_perm(5) == (0, 2, 3, 4, 1)
    assert IMAGE.tflite_shape == (1, 4, 5, 3)
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    y = IMAGE.to_tflite_layout(x)
    assert y.shape == (2, 4, 5, 3) and y.flags.c_contiguous
    assert y[1, 2, 3, 0] == x[1, 0, 2, 3] and y[0, 3, 4, 2] == x[0, 2, 3, 4]
    assert SEQUENCE.to_tflite_layout(x[:, 0]).shape == (2, 4, 5)  # no perm: unchanged


def test_npy_is_validated_and_cast(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((7, 3, 4, 5), np.float64))
    s = load_samples(tmp_path / "a.npy", (IMAGE,), "--calib")
    assert len(s) == 7 and s.arrays[0].dtype == np.float32
    np.save(tmp_path / "one.npy", np.ones((3, 4, 5), np.float32))  # a single sample without batch axis
    assert len(load_samples(tmp_path / "one.npy", (IMAGE,), "--calib")) == 1


@pytest.mark.parametrize("bad, needle", [
    (np.ones((7, 3, 5, 4), np.float32), "needs (N, 3, 4, 5)"),
    (np.ones((7, 4, 5, 3), np.float32), "channel-last"),
    (np.ones((7, 3, 4, 5), np.int16), "dtype int16"),
    (np.ones((7, 3, 4, 5), np.bool_), "dtype bool"),
    (np.full((7, 3, 4, 5), np.nan, np.float32), "NaN"),
    (np.ones((0, 3, 4, 5), np.float32), "no samples"),
])
def test_bad_arrays_are_refused(tmp_path, bad, needle):
    np.save(tmp_path / "bad.npy", bad)
    with pytest.raises(CalibrationError) as e:
        load_samples(tmp_path / "bad.npy", (IMAGE,), "--calib")
    assert needle in e.value.one_line() and "--calib" in e.value.message


def test_npz_by_input_name(tmp_path):
    np.savez(tmp_path / "two.npz", image=np.zeros((4, 3, 4, 5), np.float32), seq=np.zeros((4, 26, 3), np.float32))
    s = load_samples(tmp_path / "two.npz", (IMAGE, SEQUENCE), "--calib")
    assert [a.shape for a in s.arrays] == [(4, 3, 4, 5), (4, 26, 3)]
    np.savez(tmp_path / "miss.npz", image=np.zeros((4, 3, 4, 5), np.float32))
    with pytest.raises(CalibrationError, match="no array for input"):
        load_samples(tmp_path / "miss.npz", (IMAGE, SEQUENCE), "--calib")
    np.savez(tmp_path / "uneven.npz", image=np.zeros((4, 3, 4, 5), np.float32), seq=np.zeros((5, 26, 3), np.float32))
    with pytest.raises(CalibrationError, match="different numbers of samples"):
        load_samples(tmp_path / "uneven.npz", (IMAGE, SEQUENCE), "--calib")
    np.save(tmp_path / "single.npy", np.zeros((4, 3, 4, 5), np.float32))
    with pytest.raises(CalibrationError, match="one array for a model with 2 inputs"):
        load_samples(tmp_path / "single.npy", (IMAGE, SEQUENCE), "--calib")


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        load_samples(tmp_path / "nope.npy", (IMAGE,), "--eval")
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(CalibrationError, match="not a readable"):
        load_samples(tmp_path / "junk.npy", (IMAGE,), "--eval")


def test_random_part_of_calibration_is_held_out(tmp_path):
    x = np.arange(50, dtype=np.float32)[:, None, None].repeat(26, 1).repeat(3, 2)
    np.save(tmp_path / "c.npy", x)
    plan = plan_samples((SEQUENCE,), tmp_path / "c.npy", None, calib_samples=1000, eval_samples=1000, seed=0)
    n_held = round(50 * HELD_OUT_FRACTION)
    assert len(plan.held_out) == n_held and len(plan.calibration) == 50 - n_held
    calib_ids = set(plan.calibration.arrays[0][:, 0, 0].tolist())
    held_ids = set(plan.held_out.arrays[0][:, 0, 0].tolist())
    assert not calib_ids & held_ids and calib_ids | held_ids == set(range(50))
    assert held_ids != set(range(50 - n_held, 50))  # not simply the tail
    assert plan.warnings == ()
    again = plan_samples((SEQUENCE,), tmp_path / "c.npy", None, calib_samples=1000, eval_samples=1000, seed=0)
    assert np.array_equal(again.held_out.arrays[0], plan.held_out.arrays[0])  # same seed, same split
    capped = plan_samples((SEQUENCE,), tmp_path / "c.npy", None, calib_samples=5, eval_samples=3, seed=0)
    assert len(capped.calibration) == 5 and len(capped.held_out) == 3


def test_sorted_calibration_file_is_sampled_across_its_whole_range(tmp_path):
    # a file sorted by class: 600 quiet samples, then 600 loud ones; calib_samples=300 must see both
    quiet = np.full((600, 26, 3), 0.01, np.float32)
    loud = np.full((600, 26, 3), 100.0, np.float32)
    np.save(tmp_path / "c.npy", np.concatenate([quiet, loud]))
    plan = plan_samples((SEQUENCE,), tmp_path / "c.npy", None, calib_samples=300, eval_samples=100, seed=0)
    for part in (plan.calibration, plan.held_out):
        values = part.arrays[0][:, 0, 0]
        assert 0.3 < float((values > 1).mean()) < 0.7


def test_explicit_eval_and_tiny_calibration(tmp_path):
    np.save(tmp_path / "c.npy", np.zeros((4, 26, 3), np.float32))
    np.save(tmp_path / "e.npy", np.ones((30, 26, 3), np.float32))
    plan = plan_samples((SEQUENCE,), tmp_path / "c.npy", tmp_path / "e.npy", 1000, 1000, 0)
    assert len(plan.calibration) == 4 and len(plan.held_out) == 30 and plan.warnings == ()
    plan = plan_samples((SEQUENCE,), tmp_path / "c.npy", None, 1000, 1000, 0)
    assert len(plan.held_out) == 4 and "only 4 samples" in plan.warnings[0]


def test_random_fallback_warns_and_is_seeded():
    plan = plan_samples((IMAGE,), None, None, 1000, 1000, seed=3)
    assert any("RANDOM" in w for w in plan.warnings) and len(plan.warnings) == 2
    assert not np.array_equal(plan.calibration.arrays[0][:1], plan.held_out.arrays[0][:1])
    again = random_samples((IMAGE,), 5, seed=3)
    assert np.array_equal(again.arrays[0], plan.calibration.arrays[0][:5])
