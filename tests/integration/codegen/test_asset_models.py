"""Every compilable model in ../shared/assets/models: generated C bit-exact with TFLite Micro over
100 random inputs + 3 edge cases (portable kernels; CMSIS-NN when CMSIS_NN_PATH is set)."""

from __future__ import annotations

import os

import pytest

from _support import ASSETS, asset_model
from edgekit.codegen.generate import generate
from edgekit.codegen.verify import VerifyOptions, verify
from edgekit.core.errors import UnsupportedModelError
from edgekit.tflite.reader import read_tflite

MODELS = [
    "tflm_examples/hello_world_int8.tflite", "tflm_examples/simple_add_model.tflite",
    "tflm_examples/micro_speech_quantized.tflite", "tflm_examples/person_detect.tflite",
    "mlperf_tiny/kws_ref_model_int8.tflite", "mlperf_tiny/vww_96_int8.tflite",
    "mlperf_tiny/pretrainedResnet_quant.tflite", "mlperf_tiny/pretrainedResnet_large_int8.tflite",
    "mlperf_tiny/ad01_int8.tflite", "mlperf_tiny/str_ww_ref_model.tflite",
    # recurrent: state persists between the 103 invokes, in the generated C as in TFLite Micro
    "tflm_examples/trained_lstm_int8.tflite", "tflm_examples/micro_speech_lstm.tflite",
    "tflm_examples/dtln_noise_suppression.tflite", "tflm_examples/keyword_scrambled.tflite",
    "tflm_examples/keyword_scrambled_8bit.tflite",
]
# Refused by name: the Ethos-U custom op, the audio front end's Signal custom ops, float models.
REFUSED = {"tflm_examples/person_detect_vela.tflite": "CUSTOM:ethos-u",
           "tflm_examples/audio_preprocessor_int8.tflite": "CUSTOM:Signal",
           "tflm_examples/audio_preprocessor_float.tflite": "CUSTOM:Signal",
           "tflm_examples/trained_lstm.tflite": "float32, not int8",
           "tflm_examples/hello_world_float.tflite": "float32, not int8",
           "mlperf_tiny/ad01_fp32.tflite": "float32, not int8"}
CMSIS_NN_PATH = os.environ.get("CMSIS_NN_PATH")


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("rel", MODELS, ids=lambda r: r.split("/")[1].removesuffix(".tflite"))
def test_portable_bit_exact_with_tflm(rel):
    res = verify(asset_model(rel), VerifyOptions(inputs=100, kernels="portable"))
    assert res.reference == "tflm" and res.total == 103
    assert res.exact == res.total, res.first_diff
    assert res.max_lsb == 0


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not CMSIS_NN_PATH, reason="CMSIS_NN_PATH is not set (CMSIS-NN is not available to CI)")
@pytest.mark.parametrize("rel", MODELS, ids=lambda r: r.split("/")[1].removesuffix(".tflite"))
def test_cmsis_nn_bit_exact_with_tflm(rel):
    res = verify(asset_model(rel), VerifyOptions(inputs=30, kernels="cmsis-nn", cmsis_nn_path=CMSIS_NN_PATH))
    assert res.exact == res.total, res.first_diff


@pytest.mark.parametrize("rel", sorted(REFUSED), ids=lambda r: r.split("/")[1].removesuffix(".tflite"))
def test_refused_models_are_named(rel):
    with pytest.raises(UnsupportedModelError) as e:
        generate(read_tflite(asset_model(rel)))
    assert REFUSED[rel] in e.value.message


def test_every_asset_model_is_listed():
    """A new model in ../shared/assets must be either compiled and checked or refused on purpose."""
    found = {str(p.relative_to(ASSETS / "models")) for p in (ASSETS / "models").glob("*/*.tflite")}
    if not found:
        pytest.skip(f"no models under {ASSETS / 'models'}")
    float_refs = {r for r in found if r.endswith(("_float32.tflite", "_float.tflite"))}
    assert found - float_refs == (set(MODELS) | set(REFUSED)) - float_refs
