"""Recurrent models (LSTM, SVDF): converted Keras LSTMs bit-exact with TFLite Micro, state that
persists between invokes and restarts with <name>_reset() exactly as TFLite Micro's reset(), and
a verification that replays the invoke sequence to name the first differing layer."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace

import numpy as np
import pytest

from _support import asset_model
from edgekit.codegen.build import WARNINGS, library_sources
from edgekit.codegen.emit import render_library, write_library
from edgekit.codegen.generate import Generated, codegen, generate
from edgekit.codegen.lower import LoweredModel
from edgekit.codegen.references import open_reference
from edgekit.codegen.verify import VerifyOptions, _Runner, first_differing_layer, make_inputs, verify
from edgekit.tflite.reader import read_tflite

CMSIS_NN_PATH = os.environ.get("CMSIS_NN_PATH")


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("name", ["har_lstm", "stacked_lstm"])
def test_keras_lstm_bit_exact_portable(recurrent_models, name):
    graph = read_tflite(recurrent_models[name])
    lstms = [op.opcode for op in graph.operators].count("UNIDIRECTIONAL_SEQUENCE_LSTM")
    assert lstms == (2 if name == "stacked_lstm" else 1)
    res = verify(recurrent_models[name], VerifyOptions(inputs=100, kernels="portable"))
    assert res.reference == "tflm" and res.total == 103
    assert res.exact == res.total, res.first_diff


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not CMSIS_NN_PATH, reason="CMSIS_NN_PATH is not set (CMSIS-NN is not available to CI)")
@pytest.mark.parametrize("name", ["har_lstm", "stacked_lstm"])
def test_keras_lstm_bit_exact_cmsis_nn(recurrent_models, name):
    res = verify(recurrent_models[name], VerifyOptions(inputs=30, kernels="cmsis-nn", cmsis_nn_path=CMSIS_NN_PATH))
    assert res.exact == res.total, res.first_diff


@pytest.mark.integration
def test_har_lstm_runs_arm_lstm_unidirectional_where_provably_exact(recurrent_models):
    """The HAR LSTM's gate products stay within int16 for every input, so the CMSIS-NN build runs
    it as one arm_lstm_unidirectional_s8 call (the asset LSTMs take the per-product path)."""
    gen = generate(read_tflite(recurrent_models["har_lstm"]))
    lstm = next(layer for layer in gen.model.layers if layer.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    assert dict(lstm.params)["cmsis_exact"] == 1


_DRIVER = r"""
#include <stdio.h>
#include <string.h>
#include "@NAME@.h"
/* stdin: one input. stdout: every layer's output (int32 op, int32 bytes, bytes) of four invokes
 * of that input, with a reset before the third. */
void ek_trace_layer(int op_index, const void *data, size_t bytes) {
  const int head[2] = {op_index, (int)bytes};
  fwrite(head, sizeof head, 1, stdout);
  fwrite(data, 1, bytes, stdout);
}
int main(void) {
  static unsigned char x[1 << 16];
  int k;
  if (fread(x, 1, @NAME@_input_bytes(0), stdin) != @NAME@_input_bytes(0)) return 2;
  for (k = 0; k < 4; ++k) {
    if (k == 2) @NAME@_reset();
    memcpy(@NAME@_input(0), x, @NAME@_input_bytes(0));
    if (@NAME@_invoke() != 0) return 3;
  }
  return 0;
}
"""
_TRACE_H = """#include <stddef.h>
void ek_trace_layer(int op_index, const void *data, size_t bytes);
#define EK_TRACE_LAYER(op_index, data, bytes) ek_trace_layer((op_index), (data), (bytes))
"""


def _records(raw: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(raw):
        op, n = (int(v) for v in np.frombuffer(raw[pos:pos + 8], np.int32))
        out.append((op, raw[pos + 8:pos + 8 + n]))
        pos += 8 + n
    return out


@pytest.mark.integration
@pytest.mark.parametrize("rel, state_visible", [("tflm_examples/dtln_noise_suppression.tflite", True),
                                                ("tflm_examples/keyword_scrambled_8bit.tflite", False)])
def test_state_persists_and_reset_restarts_like_tflm(tmp_path, rel, state_visible):
    """Same input four times with a reset before the third: every layer's output equals TFLite
    Micro's with the same invoke / reset sequence, moves with the state and restarts after the
    reset. Both models' int8 states have non-zero zero points, which the reset must restore (the
    scrambled SVDF model saturates every layer whatever its state, so there only equality shows)."""
    path = asset_model(rel)
    gen, lib = codegen(path, tmp_path / "lib")
    (tmp_path / "main.c").write_text(_DRIVER.replace("@NAME@", gen.name))
    (tmp_path / "trace.h").write_text(_TRACE_H)
    exe = tmp_path / "run"
    srcs = [str(s) for s in library_sources(lib.out_dir, gen.name, "portable")]
    subprocess.run(["gcc", "-std=c99", "-O2", *WARNINGS, f"-I{lib.out_dir}", f"-I{lib.out_dir / 'kernels'}",
                    "-include", str(tmp_path / "trace.h"), *srcs, str(tmp_path / "main.c"), "-lm", "-o", str(exe)],
                   check=True, capture_output=True)
    graph = gen.model.graph
    # a small signal around the zero point: full-scale random inputs saturate these models
    zero = make_inputs(graph, 0, seed=0)[2][0]
    span = np.iinfo(zero.dtype).max // 32
    x = (zero.astype(np.int64) + np.random.default_rng(4).integers(-span, span + 1, zero.shape)).astype(zero.dtype)
    recs = _records(subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, check=True).stdout)
    per_invoke = len(recs) // 4
    got = [recs[k * per_invoke:(k + 1) * per_invoke] for k in range(4)]
    ref = open_reference("tflm", path, 1 << 20, 1)
    for k in range(4):
        if k == 2:
            ref.reset()
        ref.run([x])
        for op_index, data in got[k]:
            want = np.ascontiguousarray(ref.tensor(graph.operators[op_index].outputs[0])).tobytes()
            assert data == want, (k, op_index)
    assert got[2] == got[0] and got[3] == got[1]
    assert (got[0] != got[1]) == state_visible


@pytest.mark.integration
def test_first_differing_layer_replays_the_invoke_sequence(tmp_path):
    """A wrong multiplier in the layer after the LSTM must be named, not the LSTM: that needs the
    generated library and the reference in the same state, i.e. the sequence replayed."""
    path = asset_model("tflm_examples/trained_lstm_int8.tflite")
    graph = read_tflite(path)
    gen = generate(graph, model_file=path.name)
    fc = next(layer for layer in gen.model.layers if layer.opcode == "FULLY_CONNECTED")
    params = tuple((k, v + 3 if k == "output_offset" else v) for k, v in fc.params)
    layers = tuple(replace(layer, params=params) if layer is fc else layer for layer in gen.model.layers)
    model = LoweredModel(gen.model.graph, layers)
    bad = Generated(model, gen.memory, gen.name, render_library(model, gen.memory, gen.name, path.name))
    write_library(bad.rendered, tmp_path / "lib", bad.name)
    runner = _Runner(bad, tmp_path, VerifyOptions())
    ref = open_reference("tflm", path, 1 << 20, 1)
    cases = make_inputs(graph, 5, seed=1)
    diff = first_differing_layer(gen.model.graph, runner, ref, cases[:6])
    assert diff is not None and diff.op_index == fc.op_index and diff.opcode == "FULLY_CONNECTED"
    assert diff.max_lsb == 3



@pytest.mark.integration
@pytest.mark.parametrize("kernels", ["portable", "cmsis-nn"])
def test_svdf_sweep_bit_exact(svdf_models, kernels):
    """Every SVDF variant: CMSIS-NN runs arm_svdf_s8 / arm_svdf_state_s16_s8 where the state zero
    point is 0 and the portable kernel otherwise; states clamp on the largest inputs."""
    if kernels == "cmsis-nn" and not CMSIS_NN_PATH:
        pytest.skip("CMSIS_NN_PATH is not set (CMSIS-NN is not available to CI)")
    for name, path in svdf_models.items():
        res = verify(path, VerifyOptions(inputs=100, kernels=kernels, cmsis_nn_path=CMSIS_NN_PATH))
        assert res.reference == "tflm" and res.total == 103 and res.exact == res.total, (name, res.first_diff)
