"""The zoo's MLPerf Tiny builders have the reference .tflite files' layers: op, output shape, MACs."""

from __future__ import annotations

import pytest

from edgekit import zoo

REFERENCE_NAMES = [e.name for e in zoo.entries() if e.reference_tflite]


@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_keras_builder_converts_to_the_reference_layers(name, reference_layers, compute_layers,
                                                        keras_to_tflite):
    from edgekit.tflite.reader import read_tflite, read_tflite_bytes
    from edgekit.tflite.stats import model_stats

    expected = reference_layers(name)
    graph = read_tflite_bytes(keras_to_tflite(zoo.build_keras(name, seed=0),
                                              zoo.get(name).input_shape_nhwc), name)
    assert compute_layers(graph) == expected
    reference = model_stats(read_tflite(zoo.reference_path(name)))
    assert model_stats(graph).total_macs == reference.total_macs == sum(m for _, _, m in expected)


def _torch_layers(model, input_shape: tuple[int, ...]) -> list[tuple[str, tuple[int, ...], int]]:
    """(TFLite opcode, NHWC output shape, MACs) of every Conv2d / Linear / AvgPool2d, in call order."""
    import torch
    from torch import nn

    layers: list[tuple[str, tuple[int, ...], int]] = []

    def hook(module, _inputs, output):
        shape = tuple(output.shape)
        nhwc = (shape[0], *shape[2:], shape[1]) if output.dim() == 4 else shape
        if isinstance(module, nn.Conv2d):
            depthwise = module.groups > 1 and module.groups == module.in_channels == module.out_channels
            macs = output.numel() * (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
            layers.append(("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", nhwc, macs))
        elif isinstance(module, nn.Linear):
            layers.append(("FULLY_CONNECTED", nhwc, output.numel() * module.in_features))
        elif isinstance(module, nn.AvgPool2d):
            layers.append(("AVERAGE_POOL_2D", nhwc, 0))

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear, nn.AvgPool2d))]
    with torch.no_grad():
        model.eval()(torch.zeros((1, *input_shape)))
    for h in handles:
        h.remove()
    return layers


@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_torch_builder_has_the_reference_layers(name, reference_layers):
    # A residual ADD is an operator in torch, not a module; the Keras test covers the ADDs.
    expected = [layer for layer in reference_layers(name) if layer[0] != "ADD"]
    got = _torch_layers(zoo.build_torch(name, seed=0), zoo.get(name).input_shape_nchw)
    assert got == expected
    assert sum(m for _, _, m in got) == sum(m for _, _, m in reference_layers(name))


def test_reference_totals_match_the_published_figures(reference_layers):
    # The MLPerf Tiny figures in PLATFORM_NOTES.md, measured independently of edgekit.
    published = {"kws_ds_cnn": 2_656_768, "vww_mobilenet_v1": 7_489_664,
                 "ic_resnet8": 12_501_632, "ad_autoencoder": 264_192}
    assert {n: sum(m for _, _, m in reference_layers(n)) for n in published} == published
