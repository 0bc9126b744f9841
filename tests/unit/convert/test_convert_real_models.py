"""Real conversions of small trained networks, one per frontend, checked by running the results.

Every int8 model is run here in ai-edge-litert independently of edgekit's fidelity code; the
top-1 agreement recomputed from those runs must equal the report's and be >= 99 % on >= 200
held-out samples the calibration never saw.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from _support import asset
from edgekit.cli.main import main
from edgekit.convert import ConvertOptions, convert

pytestmark = pytest.mark.slow
MIN_AGREEMENT = 0.99
MIN_HELD_OUT = 200


def run_tflite(path: Path, x: np.ndarray) -> tuple[np.ndarray, dict]:
    """Run every sample of ``x`` (TFLite layout) through ``path``; float outputs, plus input details."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    results = []
    for sample in x:
        sample = sample[None]
        if inp["dtype"] == np.int8:
            scale, zp = inp["quantization"]
            sample = np.clip(np.round(sample / scale) + zp, -128, 127).astype(np.int8)
        interp.set_tensor(inp["index"], sample)
        interp.invoke()
        y = interp.get_tensor(out["index"])
        if out["dtype"] == np.int8:
            scale, zp = out["quantization"]
            y = (y.astype(np.float32) - zp) * scale
        results.append(y[0])
    return np.stack(results), {"input": inp, "output": out}


def check_conversion(out_dir: Path, name: str, x_eval_tflite: np.ndarray, y_true: np.ndarray | None) -> dict:
    float_path, int8_path = out_dir / f"{name}_float32.tflite", out_dir / f"{name}_int8.tflite"
    report = json.loads((out_dir / f"{name}_int8.fidelity.json").read_text())
    y_float, _ = run_tflite(float_path, x_eval_tflite)
    y_int8, details = run_tflite(int8_path, x_eval_tflite)
    assert details["input"]["dtype"] == np.int8 and details["output"]["dtype"] == np.int8
    agreement = float(np.mean(y_float.argmax(1) == y_int8.argmax(1)))
    out = report["fidelity"]["outputs"][0]
    assert report["fidelity"]["samples"] == len(x_eval_tflite) >= MIN_HELD_OUT
    assert out["top1_agreement"] == pytest.approx(agreement, abs=1e-9)
    print(f"{name}: top-1 agreement {agreement:.4f} on {len(x_eval_tflite)} held-out, SQNR {out['sqnr_db']} dB")
    assert agreement >= MIN_AGREEMENT, f"{name}: int8 agrees with float on only {agreement:.3f}"
    assert out["max_abs_error"] == pytest.approx(float(np.abs(y_float - y_int8).max()), rel=1e-4, abs=1e-6)
    assert out["sqnr_db"] > 15
    if y_true is not None:  # the int8 model is still a classifier, not just close to the float one
        assert float(np.mean(y_int8.argmax(1) == y_true)) > 0.85
    stats = report["int8_stats"]
    assert stats["total_macs"] > 0 and stats["parameter_bytes"] > 0 and stats["largest_activation_bytes"] > 0
    assert report["float32_parameter_bytes"] > 2.5 * stats["parameter_bytes"]  # int8 weights + int32 biases
    assert report["fidelity"]["layers"], "per-layer SQNR missing"
    return report


def per_channel_weights(int8_path: Path) -> bool:
    from edgekit.tflite.reader import read_tflite

    graph = read_tflite(int8_path)
    convs = [op for op in graph.operators if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    return bool(convs) and all(graph.tensor(op.inputs[1]).quant.per_channel for op in convs)


def test_pytorch_cnn_through_the_cli(digits_cnn_file, digits, tmp_path, user_cwd, capsys):
    np.save(tmp_path / "calib.npy", digits["x_train"][:300])
    np.save(tmp_path / "eval.npy", digits["x_test"])
    out = tmp_path / "out"
    rc = main(["convert", f"{digits_cnn_file}:trained", "--input-shape", "1,1,8,8", "--calib",
               str(tmp_path / "calib.npy"), "--eval", str(tmp_path / "eval.npy"), "-o", str(out), "--name", "cnn"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "top-1 agree" in captured.out and "MACs" in captured.out
    assert captured.err == ""  # user data given: no warning, and the converters' output stays hidden
    assert sorted(p.name for p in out.iterdir()) == ["cnn_float32.tflite", "cnn_int8.fidelity.json", "cnn_int8.tflite"]
    x_nhwc = np.transpose(digits["x_test"], (0, 2, 3, 1))
    report = check_conversion(out, "cnn", x_nhwc, digits["y_test"])
    assert report["inputs"][0]["tflite_shape"] == [1, 8, 8, 1] and report["inputs"][0]["layout_perm"] == [0, 2, 3, 1]
    hist = report["int8_stats"]["op_histogram"]
    assert hist.get("DEPTHWISE_CONV_2D") == 1 and hist.get("ADD", 0) >= 1 and hist.get("FULLY_CONNECTED") == 1
    assert per_channel_weights(out / "cnn_int8.tflite")
    assert list(user_cwd.iterdir()) == []


def test_pytorch_lstm_from_torch_export(har, torch_trainer, tmp_path, user_cwd):
    import torch
    from torch import nn

    class HarLSTM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(3, 24, batch_first=True)
            self.fc = nn.Linear(24, 3)

        def forward(self, x):
            y, _ = self.lstm(x)
            return self.fc(y[:, -1])

    train, accuracy = torch_trainer
    torch.manual_seed(0)
    model = train(HarLSTM(), har.train.x, har.train.y, epochs=4)
    assert accuracy(model, har.test.x, har.test.y) > 0.85
    program = tmp_path / "har_lstm.pt2"
    torch.export.save(torch.export.export(model, (torch.zeros(1, 26, 3),)), str(program))
    rng = np.random.default_rng(0)
    x_cal = har.train.x[rng.permutation(len(har.train.x))[:200]]
    x_eval, y_eval = har.test.x[::3][:300], har.test.y[::3][:300]
    np.save(tmp_path / "calib.npy", x_cal)
    np.save(tmp_path / "eval.npy", x_eval)
    result = convert(ConvertOptions(model=str(program), calib=tmp_path / "calib.npy", eval=tmp_path / "eval.npy",
                                    output_dir=tmp_path / "out"))
    assert result.report_data["inputs"][0]["tflite_shape"] == [1, 26, 3]  # a sequence keeps (N, T, F)
    check_conversion(tmp_path / "out", "har_lstm", x_eval, y_eval)
    assert list(user_cwd.iterdir()) == []


def test_keras_ds_cnn(digits, tmp_path, user_cwd):
    import keras

    keras.utils.set_random_seed(0)
    layers = keras.layers
    inp = keras.Input((8, 8, 1))
    def bn():  # momentum 0.9: the moving statistics settle within a short training run
        return layers.BatchNormalization(momentum=0.9)

    x = layers.ReLU()(bn()(layers.Conv2D(24, 3, padding="same", use_bias=False)(inp)))
    for _ in range(2):
        x = layers.ReLU()(bn()(layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)))
        x = layers.ReLU()(bn()(layers.Conv2D(24, 1, use_bias=False)(x)))
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, layers.Dense(10, activation="softmax")(x))
    model.compile(optimizer=keras.optimizers.Adam(2e-2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)  # XLA compilation costs more than it saves here
    x_train, x_test = (np.transpose(digits[k], (0, 2, 3, 1)) for k in ("x_train", "x_test"))
    model.fit(x_train, digits["y_train"], epochs=15, batch_size=128, verbose=0)
    assert model.evaluate(x_test, digits["y_test"], verbose=0)[1] > 0.9
    model.save(tmp_path / "ds_cnn.keras")
    np.save(tmp_path / "calib.npy", x_train[:300])
    np.save(tmp_path / "eval.npy", x_test)
    convert(ConvertOptions(model=str(tmp_path / "ds_cnn.keras"), calib=tmp_path / "calib.npy",
                           eval=tmp_path / "eval.npy", output_dir=tmp_path / "out"))
    report = check_conversion(tmp_path / "out", "ds_cnn", x_test, digits["y_test"])
    assert report["inputs"][0]["layout_perm"] is None
    assert report["int8_stats"]["op_histogram"].get("DEPTHWISE_CONV_2D") == 2
    assert per_channel_weights(tmp_path / "out" / "ds_cnn_int8.tflite")
    assert list(user_cwd.iterdir()) == []


def test_onnx_conv1d_channel_first_calibration(har, torch_trainer, tmp_path, user_cwd):
    """An ONNX Conv1d model reads (N, C, T); calibration stays (N, C, T), the int8 model takes (N, T, C)."""
    import torch
    from torch import nn

    train, accuracy = torch_trainer
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv1d(3, 16, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
                        nn.Conv1d(16, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                        nn.Linear(16, 3))
    x_train_ncw = np.ascontiguousarray(np.transpose(har.train.x, (0, 2, 1)))
    x_test_ncw = np.ascontiguousarray(np.transpose(har.test.x, (0, 2, 1)))
    net = train(net, x_train_ncw, har.train.y, epochs=6)
    assert accuracy(net, x_test_ncw, har.test.y) > 0.85
    onnx_path = tmp_path / "har_conv1d.onnx"
    torch.onnx.export(net, (torch.zeros(1, 3, 26),), str(onnx_path), dynamo=False, input_names=["accel"],
                      dynamic_axes={"accel": {0: "batch"}})
    # Windows are stored recording by recording; a random subset covers every class.
    pick = np.random.default_rng(0).permutation(len(x_train_ncw))[:300]
    np.savez(tmp_path / "calib.npz", accel=x_train_ncw[pick])
    np.save(tmp_path / "eval.npy", x_test_ncw[::4][:300])
    result = convert(ConvertOptions(model=str(onnx_path), calib=tmp_path / "calib.npz", eval=tmp_path / "eval.npy",
                                    output_dir=tmp_path / "out"))
    assert result.report_data["inputs"][0] == {"name": "accel", "model_shape": [1, 3, 26],
                                               "tflite_shape": [1, 26, 3], "layout_perm": [0, 2, 1]}
    check_conversion(tmp_path / "out", "har_conv1d", har.test.x[::4][:300], har.test.y[::4][:300])
    assert list(user_cwd.iterdir()) == []


def test_random_calibration_warns_and_says_so_in_the_report(digits_cnn_file, tmp_path, user_cwd):
    result = convert(ConvertOptions(model=f"{digits_cnn_file}:untrained", input_shapes=((1, 1, 8, 8),),
                                    output_dir=tmp_path / "out"))
    assert any("RANDOM" in w and "--calib" in w for w in result.warnings)
    assert result.report_data["calibration"]["random"] is True
    assert result.report_data["warnings"] == list(result.warnings)
    assert result.int8_model.path.is_file() and result.int8_model.sha256 == result.report_data["int8_model"]["sha256"]
    assert list(user_cwd.iterdir()) == []


def test_three_channel_image_model_converts_without_network(no_network, tmp_path, user_cwd):
    """onnx2tf would download a sample-image file for a 4-D 3-channel input; edgekit must not let it."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(4, 2)).eval()
    onnx_path = tmp_path / "rgb.onnx"
    torch.onnx.export(net, (torch.zeros(1, 3, 16, 16),), str(onnx_path), dynamo=False, input_names=["image"])
    result = convert(ConvertOptions(model=str(onnx_path), output_dir=tmp_path / "out"))
    assert result.report_data["inputs"][0]["tflite_shape"] == [1, 16, 16, 3]
    assert no_network == []
    assert list(user_cwd.iterdir()) == []
    # The same input gives the same bytes (tensor names, hence the quantizer, are reproducible).
    again = convert(ConvertOptions(model=str(onnx_path), output_dir=tmp_path / "again"))
    assert again.float_model.sha256 == result.float_model.sha256
    assert again.int8_model.sha256 == result.int8_model.sha256


def test_legacy_quantizer_takes_over_when_float_ops_remain(digits_cnn_file, tmp_path, user_cwd, monkeypatch):
    from collections import Counter

    from edgekit.convert import quantize

    real = quantize.non_integer_ops
    calls = []

    def first_call_leaves_split_in_float(data: bytes) -> Counter:
        calls.append(len(data))
        return Counter({"SPLIT": 1}) if len(calls) == 1 else real(data)

    monkeypatch.setattr(quantize, "non_integer_ops", first_call_leaves_split_in_float)
    result = convert(ConvertOptions(model=f"{digits_cnn_file}:trained", input_shapes=((1, 1, 8, 8),),
                                    output_dir=tmp_path / "out"))
    assert len(calls) == 2 and result.report_data["calibration"]["quantizer"] == "legacy"
    assert not real(result.int8_model.path.read_bytes())


def test_tflite_is_validated_and_passed_through(tmp_path, user_cwd):
    src = asset("models/mlperf_tiny/kws_ref_model_int8.tflite")
    result = convert(ConvertOptions(model=str(src), output_dir=tmp_path / "out"))
    assert result.float_model is None and result.report is None
    assert result.int8_model.path == tmp_path / "out" / "kws_ref_model_int8.tflite"
    assert result.int8_model.path.read_bytes() == src.read_bytes()
