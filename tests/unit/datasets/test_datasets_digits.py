from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits as sk_load_digits

from edgekit.core.errors import UsageError
from edgekit.datasets import load_digits


def test_digits_are_nhwc_float32_in_unit_range_and_cover_the_set():
    d = load_digits()
    total = sk_load_digits().target
    assert len(d.train) + len(d.val) + len(d.test) == total.shape[0]
    for split in (d.train, d.val, d.test):
        assert split.x.dtype == np.float32 and split.x.shape[1:] == (8, 8, 1)
        assert split.y.dtype == np.int64 and set(np.unique(split.y)) == set(range(10))
        assert split.x.min() >= 0.0 and split.x.max() <= 1.0
    assert max(s.x.max() for s in (d.train, d.val, d.test)) == 1.0
    counts = sum(np.bincount(s.y, minlength=10) for s in (d.train, d.val, d.test))
    np.testing.assert_array_equal(counts, np.bincount(total))
    # Stratified: each class's share of the test split is within one image of the target share.
    test_counts = np.bincount(d.test.y, minlength=10)
    assert np.all(np.abs(test_counts - np.bincount(total) * 0.2) <= 1)


def test_nchw_is_the_same_images_transposed():
    nhwc, nchw = load_digits(layout="nhwc", seed=3), load_digits(layout="nchw", seed=3)
    assert nchw.test.x.shape[1:] == (1, 8, 8) and nchw.layout == "nchw"
    np.testing.assert_array_equal(nchw.test.x, nhwc.test.x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(nchw.test.y, nhwc.test.y)


def test_split_is_deterministic_in_the_seed():
    a, b, c = load_digits(seed=0), load_digits(seed=0), load_digits(seed=1)
    np.testing.assert_array_equal(a.train.x, b.train.x)
    np.testing.assert_array_equal(a.test.y, b.test.y)
    assert not np.array_equal(a.test.x, c.test.x)


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError):
        load_digits(layout="chw")   # type: ignore[arg-type]
    with pytest.raises(UsageError):
        load_digits(test_fraction=0.0)
