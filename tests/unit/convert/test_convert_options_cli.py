"""ConvertOptions validation and the command line derived from it (no conversion runs)."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import pytest

from edgekit.cli.convert import ConvertCommand, format_summary
from edgekit.convert.api import default_name, source_format
from edgekit.convert.options import ConvertOptions, parse_shape
from edgekit.core.errors import InputFileError, UsageError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    ConvertCommand().add_arguments(p)
    return p


def test_every_exposed_option_is_a_flag_with_help():
    help_text = parser().format_help()
    for f in fields(ConvertOptions):
        flag = f.metadata["flag"]
        if flag is None:
            continue
        assert f.metadata["help"]
        assert (flag in help_text) if flag.startswith("-") else (f.metadata["metavar"] in help_text)


def test_arguments_map_onto_options():
    args = parser().parse_args(["net.py:make", "-o", "out", "--input-shape", "1,3,32,32", "--input-shape", "1x10",
                                "--calib", "c.npy", "--task", "regressor", "--calib-samples", "50"])
    assert args.model == "net.py:make" and args.output_dir == Path("out")
    assert args.input_shapes == [(1, 3, 32, 32), (1, 10)]
    assert args.calib == Path("c.npy") and args.eval is None and args.task == "regressor"
    assert args.calib_samples == 50 and args.eval_samples == ConvertOptions.eval_samples
    defaults = parser().parse_args(["m.onnx"])
    assert defaults.output_dir == Path(".") and defaults.input_shapes == [] and not hasattr(defaults, "debug")


@pytest.mark.parametrize("kwargs, needle", [
    ({"input_shapes": ((2, 3, 8, 8),)}, "batch must be 1"),
    ({"input_shapes": ((1, 0, 8),)}, "below 1"),
    ({"task": "detector"}, "unknown task"),
    ({"calib_samples": 0}, "at least 1"),
    ({"name": "../x"}, "plain file name"),
])
def test_invalid_options(kwargs, needle):
    with pytest.raises(UsageError, match=needle.replace("(", r"\(")):
        ConvertOptions(model="m.onnx", **kwargs)


def test_parse_shape():
    assert parse_shape("1,3,32,32") == (1, 3, 32, 32) == parse_shape("1x3x32x32")
    with pytest.raises(UsageError, match="not a list of integers"):
        parse_shape("1,three")


def test_source_format_and_default_name(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"")
    (tmp_path / "w.pth").write_bytes(b"")
    (tmp_path / "sm").mkdir()
    (tmp_path / "sm" / "saved_model.pb").write_bytes(b"")
    (tmp_path / "kws_int8.tflite").write_bytes(b"")
    assert source_format("a/net.py:make") == "pytorch"
    assert source_format(str(tmp_path / "m.onnx")) == "onnx"
    assert source_format(str(tmp_path / "sm")) == "saved-model"
    assert default_name("a/net.py:make_cnn", "pytorch") == "make_cnn"
    assert default_name(str(tmp_path / "sm") + "/", "saved-model") == "sm"
    assert default_name(str(tmp_path / "kws_int8.tflite"), "tflite") == "kws"
    with pytest.raises(UsageError, match="pickled module"):
        source_format(str(tmp_path / "w.pth"))
    with pytest.raises(InputFileError, match="no such file"):
        source_format(str(tmp_path / "absent.onnx"))
    with pytest.raises(InputFileError, match="without saved_model.pb"):
        source_format(str(tmp_path))


def test_summary_table():
    report = {
        "held_out": {"samples": 400, "source": "--eval e.npy"},
        "calibration": {"samples": 300, "source": "--calib c.npy"},
        "fidelity": {"outputs": [{"shape": [1, 10], "top1_agreement": 0.9975, "max_abs_error": 0.25,
                                  "mean_abs_error": 0.01, "sqnr_db": 31.5}],
                     "worst_layers": [{"index": 2, "opcode": "CONV_2D", "sqnr_drop_db": 4.25, "sqnr_db": 30.0}]},
        "int8_stats": {"op_histogram": {"CONV_2D": 2, "ADD": 1}, "total_macs": 12345, "parameter_bytes": 2048,
                       "largest_activation_bytes": 512},
        "float32_parameter_bytes": 8192,
    }
    text = format_summary(report)
    assert "400 held-out samples" in text and "99.8 %" in text and "31.5" in text
    assert "op 2 CONV_2D -4.2 dB" in text or "op 2 CONV_2D -4.3 dB" in text
    assert "3 ops (CONV_2D x2, ADD x1)" in text and "12,345 MACs" in text and "2.0 KiB" in text
