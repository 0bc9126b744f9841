"""Generated sources build warning-free (-Wall -Wextra -Werror) for the host (make, cmake) and
for Cortex-M4/M7/M33/M55 with arm-none-eabi-gcc, and CMSIS-NN builds when CMSIS_NN_PATH is set."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from _support import asset_model
from edgekit.codegen.build import CORTEX_M, cross_compile
from edgekit.codegen.generate import codegen

CMSIS_NN_PATH = os.environ.get("CMSIS_NN_PATH")


def _libraries(tmp: Path, sweep_models: dict[str, Path], recurrent: dict[str, Path]) -> list[tuple[Path, str]]:
    """Libraries that together use every kernel: the sweep models plus real models (the HAR LSTM
    adds LSTM and strided slices; the SVDF keyword model ek_svdf.c, whose int8- and int16-state
    functions compile together, int16 softmax and int32 requantization)."""
    libs = []
    for name in ("conv_per_channel_dilated", "depthwise_pool", "elementwise", "layout", "dense_per_tensor"):
        gen, lib = codegen(sweep_models[name], tmp / name)
        libs.append((lib.out_dir, gen.name))
    for name, path in (("kws", asset_model("mlperf_tiny/kws_ref_model_int8.tflite")),
                       ("svdf", asset_model("tflm_examples/keyword_scrambled.tflite")),
                       ("har_lstm", recurrent["har_lstm"])):
        gen, lib = codegen(path, tmp / name)
        libs.append((lib.out_dir, gen.name))
    return libs


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc is not installed")
def test_cortex_m_builds_are_warning_free(tmp_path, sweep_models, recurrent_models):
    kernels = ["portable"] + (["cmsis-nn"] if CMSIS_NN_PATH else [])
    for lib_dir, name in _libraries(tmp_path, sweep_models, recurrent_models):
        for cpu in CORTEX_M:
            for k in kernels:
                objs = cross_compile(lib_dir, name, cpu, tmp_path / "obj" / name, kernels=k,
                                     cmsis_nn_path=CMSIS_NN_PATH)
                assert objs and all(o.stat().st_size > 0 for o in objs)


@pytest.mark.integration
@pytest.mark.slow
def test_makefile_and_cmake_build_static_libraries(tmp_path):
    gen, lib = codegen(asset_model("tflm_examples/micro_speech_quantized.tflite"), tmp_path / "ms", )
    r = subprocess.run(["make", "-s"], cwd=lib.out_dir, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (lib.out_dir / f"lib{gen.name}.a").stat().st_size > 0
    if shutil.which("arm-none-eabi-gcc"):
        r = subprocess.run(["make", "-s", "CC=arm-none-eabi-gcc", "MCPU=cortex-m4"], cwd=lib.out_dir,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert (lib.out_dir / "build" / "portable-cortex-m4" / f"lib{gen.name}.a").exists()
    if shutil.which("cmake"):
        build = tmp_path / "cmake-build"
        r = subprocess.run(["cmake", "-S", str(lib.out_dir), "-B", str(build)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        r = subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        assert (build / f"lib{gen.name}.a").exists()
