from __future__ import annotations

import numpy as np
import pytest

from edgekit import zoo
from edgekit.core.errors import UsageError

REFERENCE_NAMES = [e.name for e in zoo.entries() if e.reference_tflite]


def test_registry_lists_the_four_mlperf_networks_and_two_har_models():
    assert len(set(zoo.names())) == len(zoo.names()) == 6
    assert {zoo.get(n).reference_tflite for n in REFERENCE_NAMES} == {
        "kws_ref_model_int8.tflite", "vww_96_int8.tflite", "pretrainedResnet_quant.tflite",
        "ad01_int8.tflite"}
    for e in zoo.entries():
        assert e.task in ("classifier", "autoencoder")
        assert (e.num_classes is None) == (e.task == "autoencoder")
        if e.task == "classifier":
            assert e.output_shape == (e.num_classes,)
        assert sorted(e.input_shape_nhwc) == sorted(e.input_shape_nchw)


def test_unknown_name_is_a_usage_error_listing_the_known_ones():
    with pytest.raises(UsageError) as info:
        zoo.get("resnet50")
    assert "kws_ds_cnn" in info.value.hint


def test_reference_path_points_at_existing_files(mlperf_dir):
    for name in REFERENCE_NAMES:
        assert zoo.reference_path(name).is_file()
    with pytest.raises(UsageError):
        zoo.reference_path("har_lstm")


@pytest.mark.parametrize("name", zoo.names())
def test_torch_builder_takes_and_gives_the_registered_shapes(name):
    import torch

    e = zoo.get(name)
    model = zoo.build_torch(name, seed=0).eval()
    with torch.no_grad():
        y = model(torch.zeros((2, *e.input_shape_nchw)))
    assert tuple(y.shape) == (2, *e.output_shape)


@pytest.mark.parametrize("name", zoo.names())
def test_keras_builder_takes_and_gives_the_registered_shapes(name):
    e = zoo.get(name)
    model = zoo.build_keras(name, seed=0)
    assert tuple(model.input_shape[1:]) == e.input_shape_nhwc
    assert tuple(model.output_shape[1:]) == e.output_shape
    assert type(model).__module__.split(".")[0] == e.keras_package


@pytest.mark.parametrize("name", ["kws_ds_cnn", "har_lstm"])
def test_builders_are_deterministic_in_the_seed(name):
    import torch

    def torch_weights(seed):
        return [p.detach().numpy().copy() for p in zoo.build_torch(name, seed=seed).state_dict().values()]

    rng_before = torch.random.get_rng_state()
    a, b, c = torch_weights(1), torch_weights(1), torch_weights(2)
    assert torch.equal(torch.random.get_rng_state(), rng_before), "builder changed the global RNG"
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))

    ka, kb, kc = (zoo.build_keras(name, seed=s).get_weights() for s in (1, 1, 2))
    assert all(np.array_equal(x, y) for x, y in zip(ka, kb))
    assert not all(np.array_equal(x, y) for x, y in zip(ka, kc))
