"""The kernels' DSP paths with the real instructions (SMLAD, SXTB16, SXTAB16, SMMULR) on the emulated
Cortex-M4, on shapes the MLPerf Tiny models do not have: odd channel counts (word tails, a lone
output channel), patches whose length is not a multiple of 4, odd pixel counts (a lone pixel after
the pairs), 1x1 layers in place forwards and backwards, depthwise by rows in place, 5x5 and
dilated depthwise taps, a fully connected layer with odd sizes. Outputs byte-identical on 10 inputs
to TFLite Micro and to the host build (run_model raises VerificationError otherwise), for the
portable kernels and for the CMSIS-NN adapters (edgekit's kernels first, and strict CMSIS-NN)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from edgekit.core.profile import load_profile
from edgekit.measure.mcu_run import McuRunOptions, run_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CMSIS_NN_PATH = os.environ.get("CMSIS_NN_PATH")


@pytest.fixture(scope="module")
def odd_model(tmp_path_factory):
    tf = pytest.importorskip("tensorflow")
    tf.keras.utils.set_random_seed(7)
    L = tf.keras.layers
    x = L.Input((9, 11, 5), batch_size=1)
    a = L.Conv2D(7, 3, padding="same", activation="relu")(x)                   # k = 45, 7 channels
    a = L.Conv2D(9, 1)(a)                                                        # 1x1 in place, backwards
    a = L.DepthwiseConv2D(3, padding="same", activation="relu6")(a)              # 9 channels: a word + 5
    a = L.Conv2D(6, 1)(a)                                                        # 1x1 in place, forwards
    b = L.DepthwiseConv2D(3, dilation_rate=2, padding="same")(L.Conv2D(8, 3, strides=2)(x))
    c = L.Dense(5)(L.Flatten()(L.Conv2D(3, 3, strides=2, padding="valid")(x)))  # 60 -> 5
    d = L.DepthwiseConv2D(5, strides=2, padding="valid")(x)                      # 5x5 taps, 5 channels
    model = tf.keras.Model(x, [a, b, c, d])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(3)
    conv.representative_dataset = lambda: ([rng.uniform(-2, 2, (1, 9, 11, 5)).astype(np.float32)] for _ in range(16))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    path = tmp_path_factory.mktemp("dsp") / "odd_shapes.tflite"
    path.write_bytes(conv.convert())
    return path


VARIANTS = [("portable", ""), ("cmsis-nn", ""), ("cmsis-nn", "-DEK_CMSIS_NN_STRICT")]


@pytest.mark.parametrize("kernels,cflags", VARIANTS, ids=["portable", "cmsis-nn", "cmsis-nn-strict"])
def test_dsp_kernels_bit_exact_on_qemu_m4(odd_model, mcu_cache, monkeypatch, kernels, cflags):
    if kernels == "cmsis-nn" and not CMSIS_NN_PATH:
        pytest.skip("CMSIS_NN_PATH is not set (a CMSIS-NN checkout)")
    monkeypatch.setenv("MODEL_CFLAGS", cflags)     # read by firmware/Makefile
    r = run_model(odd_model, load_profile("qemu-m4"),
                  McuRunOptions(count=10, kernels=kernels, cmsis_nn_path=CMSIS_NN_PATH),
                  work_dir=mcu_cache / "odd_shapes" / f"{kernels}{cflags}")
    assert r.bit_exact and r.outputs_checked >= 10 and r.references[-1] == "host-build"
