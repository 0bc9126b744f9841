"""The accelerometer models: small, trainable in seconds, and deployable (fused LSTM, ONNX)."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit import zoo
from edgekit.zoo import keras_models, torch_models

MAX_PARAMS = 20_000


def _accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float((np.asarray(scores).argmax(axis=1) == labels).mean())


def _train_torch(model, x: np.ndarray, y: np.ndarray, epochs: int, lr: float, seed: int = 0):
    import torch

    threads = torch.get_num_threads()
    # Small ops: one thread is faster than two fighting over a shared CI core.
    torch.set_num_threads(1)
    try:
        xs, ys = torch.from_numpy(x), torch.from_numpy(y)
        batch = 32
        steps = epochs * ((len(ys) + batch - 1) // batch)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        g = torch.Generator().manual_seed(seed)
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(ys), generator=g)
            for i in range(0, len(order), batch):
                idx = order[i:i + batch]
                loss = torch.nn.functional.cross_entropy(model(xs[idx]), ys[idx])
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def _torch_input(name: str, x: np.ndarray) -> np.ndarray:
    e = zoo.get(name)
    return x if e.input_shape_nchw == e.input_shape_nhwc else np.ascontiguousarray(np.moveaxis(x, -1, 1))


@pytest.mark.parametrize("name", ["har_cnn1d", "har_lstm"])
def test_har_models_are_small(name):
    torch_params = sum(p.numel() for p in zoo.build_torch(name).parameters())
    keras_params = zoo.build_keras(name).count_params()
    assert 1000 < torch_params <= MAX_PARAMS
    assert 1000 < keras_params <= MAX_PARAMS
    # torch's LSTM has two bias vectors where Keras has one; nothing else differs.
    extra = 4 * 32 if name == "har_lstm" else 0
    assert torch_params == keras_params + extra


@pytest.mark.parametrize(("name", "epochs", "lr", "min_accuracy"),
                         [("har_cnn1d", 3, 3e-3, 0.95), ("har_lstm", 10, 1e-2, 0.90)])
def test_torch_har_model_learns_activities(name, epochs, lr, min_accuracy, har):
    import torch

    model = _train_torch(zoo.build_torch(name, seed=0), _torch_input(name, har.train.x), har.train.y,
                         epochs, lr)
    with torch.no_grad():
        scores = model(torch.from_numpy(_torch_input(name, har.test.x))).numpy()
    # Test recordings are unseen recordings (the split is by file), not unseen windows.
    assert _accuracy(scores, har.test.y) >= min_accuracy


# The legacy (TorchScript) exporter is the fast one here (PLATFORM_NOTES); its deprecation and
# tracing notices are expected.
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning",
                            "ignore:Exporting a model to ONNX with a batch_size other than 1")
def test_torch_har_lstm_exports_to_onnx_lstm(tmp_path):
    import onnx
    import onnxruntime as ort
    import torch

    model = zoo.build_torch("har_lstm", seed=0).eval()
    x = np.random.default_rng(0).standard_normal((5, *zoo.get("har_lstm").input_shape_nchw)).astype(np.float32)
    path = tmp_path / "har_lstm.onnx"
    torch.onnx.export(model, (torch.from_numpy(x[:1]),), str(path), dynamo=False,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})
    assert "LSTM" in [n.op_type for n in onnx.load(str(path)).graph.node]
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_keras_har_lstm_learns_and_converts_to_one_fused_lstm_op(har):
    import tensorflow as tf
    import tf_keras
    from ai_edge_litert.interpreter import Interpreter

    from edgekit.tflite.reader import read_tflite_bytes

    tf_keras.utils.set_random_seed(0)
    model = keras_models.har_lstm(seed=0)
    epochs, batch = 5, 32
    steps = epochs * ((len(har.train) + batch - 1) // batch)
    model.compile(optimizer=tf_keras.optimizers.Adam(tf_keras.optimizers.schedules.CosineDecay(1e-2, steps),
                                                     clipnorm=1.0),
                  loss="sparse_categorical_crossentropy")
    model.fit(har.train.x, har.train.y, batch_size=batch, epochs=epochs, verbose=0)
    keras_scores = model.predict(har.test.x, verbose=0)
    assert _accuracy(keras_scores, har.test.y) >= 0.90

    twin = keras_models.har_lstm(batch_size=1, seed=1)
    twin.set_weights(model.get_weights())
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(twin).convert()
    opcodes = [op.opcode for op in read_tflite_bytes(flatbuffer, "har_lstm").operators]
    assert opcodes.count("UNIDIRECTIONAL_SEQUENCE_LSTM") == 1
    assert "WHILE" not in opcodes

    interpreter = Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]

    def run(window: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(inp, window[None])
        interpreter.invoke()
        return interpreter.get_tensor(out)[0].copy()

    windows = har.test.x[::4]
    # The fused op keeps its hidden and cell state in variable tensors that persist between
    # invocations: a stateless model must zero them before every window.
    first, again = run(windows[-1]), run(windows[-1])
    assert not np.allclose(first, again, rtol=0, atol=1e-6)
    tflite_scores = []
    for window in windows:
        interpreter.reset_all_variables()
        tflite_scores.append(run(window))
    np.testing.assert_allclose(np.array(tflite_scores), keras_scores[::4], rtol=0, atol=1e-4)


@pytest.mark.slow
def test_keras_har_cnn_learns_activities(har):
    import keras

    keras.utils.set_random_seed(0)
    model = zoo.build_keras("har_cnn1d", seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(har.train.x, har.train.y, batch_size=32, epochs=3, verbose=0)
    assert _accuracy(model.predict(har.test.x, verbose=0), har.test.y) >= 0.95


def test_har_builders_refuse_windows_too_short_for_their_pooling():
    from edgekit.core.errors import UsageError

    with pytest.raises(UsageError):
        torch_models.har_cnn1d(window_len=3)
    with pytest.raises(UsageError):
        keras_models.har_cnn1d(window_len=3)
