"""Every compilable model in ../shared/assets/models: generated C bit-exact with TFLite Micro over
100 random inputs + 3 edge cases (portable kernels; CMSIS-NN when CMSIS_NN_PATH is set)."""

from __future__ import annotations

import os

import pytest

from _support import asset_model
from edgekit.codegen.verify import VerifyOptions, verify

MODELS = [
    "tflm_examples/hello_world_int8.tflite", "tflm_examples/simple_add_model.tflite",
    "tflm_examples/micro_speech_quantized.tflite", "tflm_examples/person_detect.tflite",
    "mlperf_tiny/kws_ref_model_int8.tflite", "mlperf_tiny/vww_96_int8.tflite",
    "mlperf_tiny/pretrainedResnet_quant.tflite", "mlperf_tiny/pretrainedResnet_large_int8.tflite",
    "mlperf_tiny/ad01_int8.tflite", "mlperf_tiny/str_ww_ref_model.tflite",
]
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
