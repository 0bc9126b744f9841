"""Each torch builder computes the same function as its Keras twin: copy the Keras weights into
the torch model and the outputs agree. This checks padding, layer order, BatchNorm constants and
the LSTM gate layout, which shapes and MACs alone cannot see."""

from __future__ import annotations

import numpy as np
import pytest

from edgekit import zoo
from edgekit.zoo import keras_models, torch_models


def _randomize_keras(model, x: np.ndarray, rng: np.random.Generator) -> None:
    """Give biases and BatchNorm constants non-trivial values (they start as 0 and 1).

    BatchNorm statistics are set near those of the activations that reach each layer, so deep
    ReLU stacks neither die nor saturate and the output still depends on the input.
    """
    import keras

    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        if type(layer).__name__ == "BatchNormalization":
            a = np.asarray(keras.Model(model.input, layer.input)(x, training=False), np.float64)
            axes = tuple(range(a.ndim - 1))
            mean, var = a.mean(axis=axes), a.var(axis=axes) + 1e-3
            c = mean.shape[0]
            weights = [1 + 0.2 * rng.standard_normal(c), 0.2 * rng.standard_normal(c),
                       mean + 0.2 * np.sqrt(var) * rng.standard_normal(c), var * rng.uniform(0.7, 1.3, c)]
        else:
            weights = [w if w.ndim > 1 else 0.1 * rng.standard_normal(w.shape) for w in weights]
        layer.set_weights([w.astype(np.float32) for w in weights])


def _copy_keras_to_torch(keras_model, torch_model) -> None:
    import torch
    from torch import nn

    kinds = {"conv": ("Conv2D", "DepthwiseConv2D"), "bn": ("BatchNormalization",),
             "dense": ("Dense",), "lstm": ("LSTM",)}
    torch_kinds = {"conv": (nn.Conv1d, nn.Conv2d), "bn": (nn.BatchNorm1d, nn.BatchNorm2d),
                   "dense": (nn.Linear,), "lstm": (nn.LSTM,)}
    for kind, keras_names in kinds.items():
        k_layers = [layer for layer in keras_model.layers if type(layer).__name__ in keras_names]
        t_layers = [m for m in torch_model.modules() if isinstance(m, torch_kinds[kind])]
        assert len(k_layers) == len(t_layers), kind
        for k, t in zip(k_layers, t_layers):
            w = k.get_weights()
            if kind == "conv":
                if type(k).__name__ == "DepthwiseConv2D":
                    kernel = w[0].transpose(2, 3, 0, 1)             # (kh, kw, C, 1) -> (C, 1, kh, kw)
                elif isinstance(t, nn.Conv1d):
                    kernel = w[0][:, 0].transpose(2, 1, 0)          # (k, 1, in, out) -> (out, in, k)
                else:
                    kernel = w[0].transpose(3, 2, 0, 1)             # (kh, kw, in, out) -> (out, in, kh, kw)
                params = [kernel] + w[1:]
                targets = [t.weight] + ([t.bias] if t.bias is not None else [])
            elif kind == "bn":
                params, targets = w, [t.weight, t.bias, t.running_mean, t.running_var]
            elif kind == "dense":
                params = [w[0].T] + w[1:]
                targets = [t.weight] + ([t.bias] if t.bias is not None else [])
            else:
                params = [w[0].T, w[1].T, w[2], np.zeros_like(w[2])]   # gate order i, f, c, o in both
                targets = [t.weight_ih_l0, t.weight_hh_l0, t.bias_ih_l0, t.bias_hh_l0]
            assert len(params) == len(targets), (kind, k.name)
            with torch.no_grad():
                for target, value in zip(targets, params):
                    assert tuple(target.shape) == value.shape, (k.name, target.shape, value.shape)
                    target.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))


@pytest.mark.parametrize("name", zoo.names())
def test_torch_and_keras_builders_compute_the_same_function(name):
    import torch

    entry = zoo.get(name)
    # Compare logits: a softmax of random weights saturates and would hide differences.
    options = {"softmax_output": False} if entry.task == "classifier" else {}
    keras_model = getattr(keras_models, entry.builder)(seed=3, **options)
    torch_model = getattr(torch_models, entry.builder)(seed=0, **options)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, *entry.input_shape_nhwc)).astype(np.float32)
    _randomize_keras(keras_model, x, rng)
    _copy_keras_to_torch(keras_model, torch_model)

    x_torch = x if entry.input_shape_nchw == entry.input_shape_nhwc else np.moveaxis(x, -1, 1)
    expected = np.asarray(keras_model(x, training=False))
    with torch.no_grad():
        got = torch_model.eval()(torch.from_numpy(np.ascontiguousarray(x_torch))).numpy()
    assert got.shape == expected.shape
    # The outputs must depend on the input, or equal outputs would prove nothing.
    spread = float(expected.std(axis=0).max())
    assert spread > 1e-2 * float(np.abs(expected).max())
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-3 * float(np.abs(expected).max()))
