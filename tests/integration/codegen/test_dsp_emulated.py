"""The kernels' DSP fast paths (EK_DSP: SMLAD / SXTB16 blocking, fast requantization), built on
the host with EK_EMULATE_DSP (plain C with the instructions' exact semantics), bit-exact with
TFLite Micro on the single-operator sweep and on asset models. On a Cortex-M4 the same code runs
with the real instructions (tests/integration/mcu)."""

from __future__ import annotations

import functools
import os

import pytest

import edgekit.codegen.verify as verify_mod
from edgekit.codegen.build import build_host_runner
from edgekit.codegen.verify import VerifyOptions, verify

from _support import asset_model

SWEEPS = ["conv_per_channel", "conv_per_tensor", "conv_per_channel_dilated", "depthwise_pool",
          "depthwise_pool_dilated", "dense_per_channel", "dense_per_tensor", "inplace_rows", "inplace_plane"]
ASSETS = ["mlperf_tiny/kws_ref_model_int8.tflite", "mlperf_tiny/ad01_int8.tflite",
          "mlperf_tiny/vww_96_int8.tflite", "mlperf_tiny/pretrainedResnet_quant.tflite"]


@pytest.fixture
def emulated_dsp(monkeypatch):
    monkeypatch.setattr(verify_mod, "build_host_runner",
                        functools.partial(build_host_runner, opt="-O2 -DEK_EMULATE_DSP"))


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("name", SWEEPS)
def test_sweep_bit_exact_emulated_dsp(sweep_models, emulated_dsp, name):
    res = verify(sweep_models[name], VerifyOptions(inputs=40, kernels="portable"))
    assert res.total == 43 and res.exact == res.total, res.first_diff


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("rel", ASSETS)
def test_asset_models_bit_exact_emulated_dsp(emulated_dsp, rel):
    res = verify(asset_model(rel), VerifyOptions(inputs=4, kernels="portable"))
    assert res.total == 7 and res.exact == res.total, res.first_diff


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CMSIS_NN_PATH"), reason="CMSIS_NN_PATH is not set (a CMSIS-NN checkout)")
@pytest.mark.parametrize("strict", [False, True], ids=["own-kernels-first", "cmsis-nn-strict"])
@pytest.mark.parametrize("name", ["inplace_rows", "inplace_plane", "depthwise_pool", "conv_per_channel",
                                  "dense_per_tensor"])
def test_cmsis_nn_adapters_with_emulated_dsp(sweep_models, monkeypatch, name, strict):
    """The CMSIS-NN adapters on a DSP core: edgekit's kernels first, or CMSIS-NN wherever it
    applies (EK_CMSIS_NN_STRICT: in-place layers by bands of rows or pixels)."""
    opt = "-O2 -DEK_EMULATE_DSP" + (" -DEK_CMSIS_NN_STRICT" if strict else "")
    monkeypatch.setattr(verify_mod, "build_host_runner", functools.partial(build_host_runner, opt=opt))
    res = verify(sweep_models[name], VerifyOptions(inputs=20, kernels="cmsis-nn",
                                                   cmsis_nn_path=os.environ["CMSIS_NN_PATH"]))
    assert res.total == 23 and res.exact == res.total, res.first_diff
