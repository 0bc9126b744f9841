"""Every bad input gives one stderr line naming the problem and the fix, a non-zero exit code,
no traceback and no output files (nor anything in the working directory)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from edgekit.cli.main import main
from edgekit.core.errors import CalibrationError, ConversionError, InputFileError, UsageError

pytestmark = pytest.mark.slow


def run_cli(capsys, args: list[str]) -> tuple[int, str]:
    rc = main(["convert", *args])
    err = capsys.readouterr().err
    return rc, err


def assert_one_line_error(rc: int, err: str, exit_code: int, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert rc == exit_code, err
    assert len(lines) == 1, f"expected one stderr line, got:\n{err}"
    assert lines[0].startswith("error: ") and "(hint: " in lines[0]
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], f"{needle!r} missing from {lines[0]!r}"


def assert_nothing_written(out: Path, cwd: Path) -> None:
    assert not out.exists() or list(out.iterdir()) == []
    assert list(cwd.iterdir()) == []


def write_factory(folder: Path, body: str) -> Path:
    path = folder / "model_def.py"
    path.write_text("import torch\nfrom torch import nn\n\n" + textwrap.dedent(body))
    return path


@pytest.fixture
def out(tmp_path) -> Path:
    return tmp_path / "out"


@pytest.fixture
def digits_onnx(tmp_path) -> Path:
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10)).eval()
    path = tmp_path / "digits.onnx"
    torch.onnx.export(net, (torch.zeros(1, 1, 8, 8),), str(path), dynamo=False, input_names=["image"])
    return path


def test_pytorch_op_without_onnx_export(tmp_path, out, user_cwd, capsys):
    src = write_factory(tmp_path, """
        class Spectrum(nn.Module):
            def forward(self, x):
                return torch.fft.rfft(x).abs()

        def make():
            return Spectrum()
    """)
    rc, err = run_cli(capsys, [f"{src}:make", "--input-shape", "1,16", "-o", str(out)])
    assert_one_line_error(rc, err, ConversionError.exit_code, "aten::fft_rfft", "cannot be converted", "replace")
    assert_nothing_written(out, user_cwd)


def test_op_without_int8_kernel(tmp_path, out, user_cwd, capsys):
    src = write_factory(tmp_path, """
        class RunningSum(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)

            def forward(self, x):
                return torch.cumsum(self.fc(x), dim=1)

        def make():
            torch.manual_seed(0)
            return RunningSum()
    """)
    rc, err = run_cli(capsys, [f"{src}:make", "--input-shape", "1,8", "-o", str(out)])
    assert_one_line_error(rc, err, ConversionError.exit_code, "cannot be fully int8", "CUMSUM")
    assert_nothing_written(out, user_cwd)


def test_dynamic_dimension_in_onnx(tmp_path, out, user_cwd, capsys):
    import torch
    from torch import nn

    path = tmp_path / "conv1d.onnx"
    torch.onnx.export(nn.Conv1d(3, 4, 3).eval(), (torch.zeros(1, 3, 20),), str(path), dynamo=False,
                      input_names=["signal"], dynamic_axes={"signal": {0: "batch", 2: "time"}})
    rc, err = run_cli(capsys, [str(path), "-o", str(out)])
    assert_one_line_error(rc, err, ConversionError.exit_code, "'signal'", "dynamic shape", "--input-shape 1,3,N")
    assert_nothing_written(out, user_cwd)


def test_dynamic_dimension_in_keras(tmp_path, out, user_cwd, capsys):
    import keras

    inp = keras.Input((None, 3), name="accel")
    keras.Model(inp, keras.layers.Dense(2)(keras.layers.LSTM(4)(inp))).save(tmp_path / "seq.keras")
    rc, err = run_cli(capsys, [str(tmp_path / "seq.keras"), "-o", str(out)])
    assert_one_line_error(rc, err, ConversionError.exit_code, "'accel'", "dynamic shape", "--input-shape")
    assert_nothing_written(out, user_cwd)


def test_calibration_of_the_wrong_shape(digits_onnx, tmp_path, out, user_cwd, capsys):
    np.save(tmp_path / "calib.npy", np.zeros((20, 1, 9, 9), np.float32))
    rc, err = run_cli(capsys, [str(digits_onnx), "--calib", str(tmp_path / "calib.npy"), "-o", str(out)])
    assert_one_line_error(rc, err, CalibrationError.exit_code, "(20, 1, 9, 9)", "(N, 1, 8, 8)", "'image'")
    assert_nothing_written(out, user_cwd)


def test_channel_last_calibration_is_told_how_to_transpose(digits_onnx, tmp_path, out, user_cwd, capsys):
    np.save(tmp_path / "calib.npy", np.zeros((20, 8, 8, 1), np.float32))
    rc, err = run_cli(capsys, [str(digits_onnx), "--calib", str(tmp_path / "calib.npy"), "-o", str(out)])
    assert_one_line_error(rc, err, CalibrationError.exit_code, "channel-last", "np.transpose(x, (0, 3, 1, 2))")
    assert_nothing_written(out, user_cwd)


@pytest.mark.parametrize("dtype", ["uint8", "int64"])
def test_calibration_of_the_wrong_dtype(digits_onnx, tmp_path, out, user_cwd, capsys, dtype):
    np.save(tmp_path / "calib.npy", np.zeros((20, 1, 8, 8), dtype))
    rc, err = run_cli(capsys, [str(digits_onnx), "--calib", str(tmp_path / "calib.npy"), "-o", str(out)])
    assert_one_line_error(rc, err, CalibrationError.exit_code, f"dtype {dtype}", "float32")
    assert_nothing_written(out, user_cwd)


def test_truncated_onnx(digits_onnx, tmp_path, out, user_cwd, capsys):
    data = digits_onnx.read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[: len(data) // 2])
    rc, err = run_cli(capsys, [str(cut), "-o", str(out)])
    assert_one_line_error(rc, err, InputFileError.exit_code, "cut.onnx", "not a valid ONNX model", "truncated")
    assert_nothing_written(out, user_cwd)


def test_factory_that_does_not_exist(digits_cnn_file, out, user_cwd, capsys):
    rc, err = run_cli(capsys, [f"{digits_cnn_file}:make_model", "--input-shape", "1,1,8,8", "-o", str(out)])
    assert_one_line_error(rc, err, UsageError.exit_code, "no function 'make_model'", "trained", "untrained")
    assert_nothing_written(out, user_cwd)


def test_model_file_that_does_not_exist(tmp_path, out, user_cwd, capsys):
    rc, err = run_cli(capsys, [str(tmp_path / "absent.onnx"), "-o", str(out)])
    assert_one_line_error(rc, err, InputFileError.exit_code, "absent.onnx", "no such file")
    rc, err = run_cli(capsys, [f"{tmp_path / 'absent.py'}:make", "--input-shape", "1,4", "-o", str(out)])
    assert_one_line_error(rc, err, InputFileError.exit_code, "absent.py", "no such file")
    assert_nothing_written(out, user_cwd)


def test_factory_without_input_shape(digits_cnn_file, out, user_cwd, capsys):
    rc, err = run_cli(capsys, [f"{digits_cnn_file}:trained", "-o", str(out)])
    assert_one_line_error(rc, err, UsageError.exit_code, "needs --input-shape")
    assert_nothing_written(out, user_cwd)


def test_forward_failing_at_the_given_shape(digits_cnn_file, out, user_cwd, capsys):
    rc, err = run_cli(capsys, [f"{digits_cnn_file}:trained", "--input-shape", "1,1,16,16", "-o", str(out)])
    assert_one_line_error(rc, err, ConversionError.exit_code, "forward() fails on input shape 1,1,16,16")
    assert_nothing_written(out, user_cwd)


def test_unreadable_calibration_file(digits_onnx, tmp_path, out, user_cwd, capsys):
    (tmp_path / "calib.npy").write_bytes(b"not numpy at all")
    rc, err = run_cli(capsys, [str(digits_onnx), "--calib", str(tmp_path / "calib.npy"), "-o", str(out)])
    assert_one_line_error(rc, err, CalibrationError.exit_code, "not a readable .npy/.npz")
    assert_nothing_written(out, user_cwd)


def test_softmax_after_a_dead_layer_is_refused_not_crashed(tmp_path, out, user_cwd, capsys):
    """LiteRT and TFLM abort the process preparing such a softmax; edgekit must say why first."""
    import keras

    inp = keras.Input((4,))
    dead = keras.layers.Dense(3, activation="softmax", kernel_initializer="zeros", bias_initializer="zeros")
    keras.Model(inp, dead(inp)).save(tmp_path / "dead.keras")
    rc, err = run_cli(capsys, [str(tmp_path / "dead.keras"), "-o", str(out)])
    assert_one_line_error(rc, err, ConversionError.exit_code, "SOFTMAX", "input scale", "--calib")
    assert_nothing_written(out, user_cwd)
