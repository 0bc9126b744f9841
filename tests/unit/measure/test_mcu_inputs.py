"""Inputs for a board run (files and generated), and ticks -> instructions / cycles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekit.core.errors import CalibrationError, DeviceError, InputFileError
from edgekit.core.profile import load_profile
from edgekit.measure import mcu_frames as fr
from edgekit.measure.mcu_inputs import PreparedModel, load_inputs, make_inputs
from edgekit.measure.mcu_run import counts_from_ticks


def lib(inputs=(6,), outputs=(2,)) -> PreparedModel:
    return PreparedModel(name="m", lib_dir=Path("."), source=Path("."), tflite=None, graph=None, artifact_sha256="0",
                         input_bytes=tuple(inputs), output_bytes=tuple(outputs), arena_bytes=8, weights_bytes=None,
                         max_layers=1)


def test_npy_with_and_without_batch(tmp_path):
    x = np.arange(18, dtype=np.int8).reshape(3, 2, 3)
    np.save(tmp_path / "a.npy", x)
    got = load_inputs(tmp_path / "a.npy", lib())
    assert got == [[x[k].tobytes()] for k in range(3)]
    np.save(tmp_path / "b.npy", x[0])
    assert load_inputs(tmp_path / "b.npy", lib()) == [[x[0].tobytes()]]


def test_npz_two_inputs_by_index_name(tmp_path):
    a, b = np.ones((2, 6), np.int8), np.full((2, 4), 7, np.int8)
    np.savez(tmp_path / "x.npz", input0=a, input1=b)
    got = load_inputs(tmp_path / "x.npz", lib(inputs=(6, 4)))
    assert got == [[a[k].tobytes(), b[k].tobytes()] for k in range(2)]
    np.savez(tmp_path / "y.npz", input0=a, input1=b[:1])
    with pytest.raises(CalibrationError, match="different numbers of samples"):
        load_inputs(tmp_path / "y.npz", lib(inputs=(6, 4)))
    np.savez(tmp_path / "z.npz", first=a)
    with pytest.raises(CalibrationError, match="no array for input 0"):
        load_inputs(tmp_path / "z.npz", lib())


def test_bin_records_and_bad_sizes(tmp_path):
    (tmp_path / "r.bin").write_bytes(bytes(range(20)))
    assert load_inputs(tmp_path / "r.bin", lib(inputs=(6, 4))) == [[bytes(range(6)), bytes(range(6, 10))],
                                                                    [bytes(range(10, 16)), bytes(range(16, 20))]]
    (tmp_path / "s.bin").write_bytes(bytes(7))
    with pytest.raises(CalibrationError, match="not a whole number"):
        load_inputs(tmp_path / "s.bin", lib())
    np.save(tmp_path / "t.npy", np.zeros(7, np.int8))
    with pytest.raises(CalibrationError, match="not a multiple"):
        load_inputs(tmp_path / "t.npy", lib())
    with pytest.raises(InputFileError):
        load_inputs(tmp_path / "missing.npy", lib())


def test_generated_inputs_are_seeded():
    a, b, c = make_inputs(lib(), 4, 1), make_inputs(lib(), 4, 1), make_inputs(lib(), 4, 2)
    assert a == b and a != c and len(a) == 4 and all(len(x[0]) == 6 for x in a)


def _hello(method: int, hz: int) -> fr.Hello:
    return fr.Hello("0" * 16, "b", "m", hz, hz, method, False, 1024, 0, 0, 0, 0, 0, 0, (1,), (1,))


def test_ticks_become_instructions_under_icount():
    m4, m55 = load_profile("qemu-m4"), load_profile("qemu-m55")
    assert counts_from_ticks(686, _hello(fr.TIMER_SYSTICK_ICOUNT, 25_000_000), m4) == ("qemu-icount", 27440.0)
    assert counts_from_ticks(64001, _hello(fr.TIMER_SYSTICK_ICOUNT, 32_000_000), m55)[1] == pytest.approx(2_000_031.25)


def test_cycles_stay_cycles_and_methods_must_agree():
    nucleo = load_profile("nucleo-l4r5zi")
    assert counts_from_ticks(1234, _hello(fr.TIMER_DWT_CYCCNT, 120_000_000), nucleo) == ("dwt-cyccnt", 1234.0)
    with pytest.raises(DeviceError, match="times with qemu-icount"):
        counts_from_ticks(1, _hello(fr.TIMER_SYSTICK_ICOUNT, 25_000_000), nucleo)
    with pytest.raises(DeviceError, match="unknown timer method"):
        counts_from_ticks(1, _hello(9, 25_000_000), nucleo)
