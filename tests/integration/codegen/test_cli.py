"""`edgekit codegen` / `edgekit verify` from the command line: outputs, report, bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _support import asset_model

EDGEKIT = [sys.executable, "-m", "edgekit.cli.main"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*EDGEKIT, *args], capture_output=True, text=True, timeout=300)


def _bad_files(tmp: Path, good: Path) -> dict[str, Path]:
    data = good.read_bytes()
    flipped = bytearray(data)
    for pos in (20, 100, 1000, len(data) // 2):
        flipped[pos] ^= 0xA5
    files = {"truncated": data[: len(data) // 3], "zero_length": b"", "bit_flipped": bytes(flipped),
             "not_tflite": b"PK\x03\x04 this is a zip file, not a model" * 10}
    out = {}
    for name, content in files.items():
        p = tmp / f"{name}.tflite"
        p.write_bytes(content)
        out[name] = p
    return out


@pytest.mark.integration
def test_bad_inputs_give_one_line_and_no_output(tmp_path):
    cases = _bad_files(tmp_path, asset_model("mlperf_tiny/kws_ref_model_int8.tflite"))
    cases["unsupported_custom_op"] = asset_model("tflm_examples/person_detect_vela.tflite")
    cases["float_model"] = asset_model("mlperf_tiny/ad01_fp32.tflite")
    cases["float_lstm"] = asset_model("tflm_examples/trained_lstm.tflite")
    for name, path in cases.items():
        out = tmp_path / f"out_{name}"
        r = _run("codegen", str(path), "-o", str(out))
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode != 0, name
        assert len(lines) == 1 and lines[0].startswith("error: "), (name, r.stderr)
        assert not out.exists(), name
    r = _run("codegen", str(cases["unsupported_custom_op"]), "-o", str(tmp_path / "x"))
    assert "op 0 CUSTOM:ethos-u" in r.stderr
    assert "float32, not int8" in _run("codegen", str(cases["float_model"]), "--report").stderr
    r = _run("codegen", str(cases["float_lstm"]), "--report")
    assert "float32, not int8" in r.stderr and "op 0 UNIDIRECTIONAL_SEQUENCE_LSTM" in r.stderr
    for name in ("truncated", "zero_length", "bit_flipped", "not_tflite"):
        r = _run("verify", str(cases[name]), "--inputs", "1")
        assert r.returncode == 3 and r.stderr.count("\n") == 1, (name, r.stderr)


@pytest.mark.integration
def test_codegen_writes_library_and_json_report(tmp_path):
    model = asset_model("mlperf_tiny/kws_ref_model_int8.tflite")
    out = tmp_path / "kws"
    r = _run("codegen", str(model), "-o", str(out), "--name", "kws", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    for f in ("kws.h", "kws.c", "kws_weights.c", "kws_weights.h", "Makefile", "CMakeLists.txt",
              "kernels/ek_kernels.h", "kernels/ek_ops.h", "kernels/portable/ek_conv.c",
              "kernels/cmsis_nn/ek_conv.c"):
        assert (out / f).is_file(), f
    assert not (out / "kernels/portable/ek_transpose.c").exists()   # only the kernels it needs
    header = (out / "kws.h").read_text()
    assert f"#define KWS_ARENA_BYTES {rep['arena_bytes']}" in header
    for api in ("int kws_invoke(void);", "void *kws_input(int i);", "void *kws_output(int i);",
                "size_t kws_input_bytes(int i);", "size_t kws_output_bytes(int i);", "#define KWS_NUM_INPUTS 1",
                "#define KWS_NUM_OUTPUTS 1"):
        assert api in header
    src = (out / "kws.c").read_text()
    assert src.count("  EK_RUN(") == 12 and "op 10 RESHAPE" in src and "malloc" not in src
    assert rep["macs"] == sum(layer["macs"] for layer in rep["layers"]) > 2_600_000
    assert rep["arena_bytes"] <= rep["activation_lower_bound_bytes"]
    assert rep["weights_bytes"] > 24_000 and len(rep["layers"]) == 13


@pytest.mark.integration
def test_verify_cli_prints_bit_exact(tmp_path):
    r = _run("verify", str(asset_model("tflm_examples/hello_world_int8.tflite")), "--inputs", "20")
    assert r.returncode == 0, r.stderr
    assert "bit-exact 23/23" in r.stdout and "vs litert" in r.stdout
