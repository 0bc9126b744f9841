"""Single-operator sweep (kernel 1/3/5/7, stride 1/2, SAME/VALID, dilation, depth multiplier,
per-tensor and per-channel, odd channel counts, fused activations, every supported op): each
sweep model is one compiled library covering many variants, bit-exact with TFLite Micro over 100
random inputs + 3 edge cases."""

from __future__ import annotations

import os

import pytest

from edgekit.codegen.verify import VerifyOptions, verify
from edgekit.tflite.reader import read_tflite

SWEEPS = ["conv_per_channel", "conv_per_tensor", "conv_per_channel_dilated", "depthwise_pool",
          "depthwise_pool_dilated", "elementwise", "layout", "dense_per_channel", "dense_per_tensor",
          "inplace_rows", "inplace_plane", "float_io"]
CMSIS_NN_PATH = os.environ.get("CMSIS_NN_PATH")


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("name", SWEEPS)
def test_sweep_bit_exact_portable(sweep_models, name):
    res = verify(sweep_models[name], VerifyOptions(inputs=100, kernels="portable"))
    assert res.total == 103 and res.exact == res.total, res.first_diff


@pytest.mark.integration
@pytest.mark.slow
def test_inplace_layers_are_planned_and_exercised(sweep_models):
    """The in-place chains really run in place: depthwise by rows and by channel planes, 1x1
    convolutions forwards (fewer output channels) and backwards (more); outputs are checked by
    test_sweep_bit_exact_portable."""
    from edgekit.codegen.generate import generate

    from _support import asset_model

    modes = set()
    models = [sweep_models["inplace_rows"], sweep_models["inplace_plane"],
              asset_model("mlperf_tiny/pretrainedResnet_quant.tflite")]   # 3x3 convolutions by rows
    for path in models:
        gen = generate(read_tflite(path))
        for layer in gen.model.layers:
            if layer.op_index not in gen.memory.inplace:
                continue
            p = dict(layer.params)
            if layer.kernel.file == "ek_depthwise_conv.c":
                modes.add("dw-rows" if p["inplace_rows"] else "dw-plane")
            elif layer.kernel.file != "ek_conv.c":
                modes.add(layer.opcode)
            elif p["k_h"] * p["k_w"] > 1:
                modes.add("conv-rows")
            else:
                modes.add("1x1-backward" if p["out_c"] > p["in_c"] else "1x1-forward")
        assert gen.memory.plan.arena_bytes < gen.memory.plan.lower_bound_bytes, path.name
    assert {"dw-rows", "dw-plane", "1x1-backward", "1x1-forward", "conv-rows", "ADD"} <= modes


@pytest.mark.integration
@pytest.mark.slow
def test_sweep_covers_the_variants(sweep_models):
    seen = set()
    for name in SWEEPS:
        for op in read_tflite(sweep_models[name]).operators:
            o = op.options
            seen.add(op.opcode)
            if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                seen.add((op.opcode, o["padding"], o["stride_w"], o["dilation_w_factor"] > 1,
                          o.get("fused_activation_function")))
    for want in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "MUL",
                 "SOFTMAX", "RESHAPE", "PAD", "CONCATENATION", "MEAN", "LOGISTIC", "TANH", "RELU", "RELU6",
                 "HARD_SWISH", "TRANSPOSE", "QUANTIZE", "DEQUANTIZE"):
        assert want in seen, want
    for padding in ("SAME", "VALID"):
        for stride in (1, 2):
            assert any(isinstance(s, tuple) and s[:3] == ("CONV_2D", padding, stride) for s in seen)
    assert ("CONV_2D", "SAME", 1, True, "RELU") in seen or ("CONV_2D", "SAME", 1, True, "NONE") in seen
    assert any(isinstance(s, tuple) and s[0] == "DEPTHWISE_CONV_2D" and s[3] for s in seen)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not CMSIS_NN_PATH, reason="CMSIS_NN_PATH is not set (CMSIS-NN is not available to CI)")
@pytest.mark.parametrize("name", SWEEPS)
def test_sweep_bit_exact_cmsis_nn(sweep_models, name):
    res = verify(sweep_models[name], VerifyOptions(inputs=30, kernels="cmsis-nn", cmsis_nn_path=CMSIS_NN_PATH))
    assert res.exact == res.total, res.first_diff
