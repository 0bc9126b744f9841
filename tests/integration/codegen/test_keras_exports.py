"""Keras 3 models exported as users export them compile and are bit-exact: shape computations
(SHAPE / STRIDED_SLICE / PACK feeding RESHAPE) fold away, dilated convolutions arriving as
SPACE_TO_BATCH_ND / CONV_2D / BATCH_TO_SPACE_ND become one dilated convolution, and a model
TFLite Micro cannot run is checked against LiteRT BUILTIN_REF, saying so."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from edgekit.codegen.generate import generate
from edgekit.codegen.verify import VerifyOptions, verify
from edgekit.tflite.reader import read_tflite

_SHAPE_OPS = {"SHAPE", "STRIDED_SLICE", "PACK"}


def _opcodes(path) -> list[str]:
    return [op.opcode for op in read_tflite(path).operators]


@pytest.mark.integration
@pytest.mark.slow
def test_dynamic_batch_export_with_dilations_falls_back_to_litert(keras3_exports):
    path = keras3_exports["dynamic_batch_dilated"]
    ops = _opcodes(path)
    assert _SHAPE_OPS <= set(ops) and ops.count("SPACE_TO_BATCH_ND") == 3 and ops.count("BATCH_TO_SPACE_ND") == 3
    gen = generate(read_tflite(path))
    coded = [layer for layer in gen.model.layers if layer.kernel is not None]
    assert not {layer.opcode for layer in coded} & (_SHAPE_OPS | {"SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"})
    dilations = [(dict(layer.params)["dil_h"], dict(layer.params)["dil_w"]) for layer in coded
                 if layer.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D") and dict(layer.params)["dil_h"] > 1]
    assert sorted(dilations) == [(2, 2), (2, 2), (2, 3)]
    res = verify(path, VerifyOptions(inputs=100))
    assert res.reference == "litert" and "TFLite Micro cannot run" in res.fallback_note
    assert "SPACE_TO_BATCH_ND" in res.fallback_note and res.other_max_lsb is None
    assert res.total == 103 and res.exact == res.total, res.first_diff


@pytest.mark.integration
@pytest.mark.slow
def test_dynamic_batch_export_with_dense_is_bit_exact_with_tflm(keras3_exports):
    path = keras3_exports["dynamic_batch_dense"]
    assert _SHAPE_OPS <= set(_opcodes(path))
    res = verify(path, VerifyOptions(inputs=100))
    assert res.reference == "tflm" and not res.fallback_note
    assert res.total == 103 and res.exact == res.total, res.first_diff


@pytest.mark.integration
@pytest.mark.slow
def test_fixed_batch_dilated_convolutions_are_bit_exact_with_tflm(keras3_exports):
    path = keras3_exports["fixed_batch_dilated"]
    graph = read_tflite(path)
    assert "SPACE_TO_BATCH_ND" not in _opcodes(path)
    assert any(op.options.get("dilation_h_factor", 1) > 1 for op in graph.operators)
    res = verify(path, VerifyOptions(inputs=100))
    assert res.reference == "tflm" and res.total == 103 and res.exact == res.total, res.first_diff


@pytest.mark.integration
@pytest.mark.slow
def test_verify_cli_reports_the_litert_fallback(keras3_exports):
    r = subprocess.run([sys.executable, "-m", "edgekit.cli.main", "verify",
                        str(keras3_exports["dynamic_batch_dilated"]), "--inputs", "3"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "note: TFLite Micro cannot run" in r.stdout and "bit-exact 6/6" in r.stdout


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CMSIS_NN_PATH"),
                    reason="CMSIS_NN_PATH is not set (CMSIS-NN is not available to CI)")
@pytest.mark.parametrize("name", ["dynamic_batch_dilated", "dynamic_batch_dense", "fixed_batch_dilated"])
def test_keras3_exports_bit_exact_cmsis_nn(keras3_exports, name):
    res = verify(keras3_exports[name], VerifyOptions(inputs=30, kernels="cmsis-nn",
                                                     cmsis_nn_path=os.environ["CMSIS_NN_PATH"]))
    assert res.exact == res.total, res.first_diff
