"""The benchmark_model parser against output in the tool's documented format (README of
tensorflow/lite/tools/benchmark): a newer build with percentiles and op profiling behind "INFO: "
prefixes, and an older Android build printing to logcat style without them (tests/fixtures/benchmark_model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.core.errors import DeviceError
from edgekit.measure.benchmark_model import benchmark_argv, parse_benchmark_model

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "benchmark_model"
NEWER = (FIXTURES / "newer_op_profiling.txt").read_text()
OLDER_ANDROID = (FIXTURES / "older_android.txt").read_text()


def test_newer_build_with_percentiles_and_op_profiling():
    r = parse_benchmark_model(NEWER)
    assert (r.count, r.avg_us, r.std_us, r.min_us, r.max_us, r.median_us) == (50, 458.3, 37, 439, 702, 449)
    assert (r.init_us, r.first_inference_us, r.warmup_avg_us) == (3412, 912, 503.6)
    assert r.peak_memory_mib == 3.51562
    assert [(o.index, o.op, o.avg_ms) for o in r.ops] == [
        (0, "CONV_2D", 0.079), (1, "DEPTHWISE_CONV_2D", 0.028), (10, "AVERAGE_POOL_2D", 0.004),
        (11, "FULLY_CONNECTED", 0.004)]
    assert r.ops[0].name == "[functional/conv2d/Relu]:0"
    m = r.metrics()
    assert m["latency_ms_p50"] == pytest.approx(0.449) and m["latency_ms_mean"] == pytest.approx(0.4583)
    assert m["latency_ms_p90"] is None and m["latency_ms_p99"] is None  # not printed: not invented
    assert m["latency_cv"] == pytest.approx(37 / 458.3)
    assert m["ram_bytes_peak"] == round(3.51562 * 2**20) and m["model_load_ms"] == pytest.approx(3.412)


def test_older_android_build_without_percentiles():
    r = parse_benchmark_model(OLDER_ANDROID)
    assert (r.count, r.avg_us, r.std_us, r.median_us) == (50, 249684, 1442, None)
    assert r.peak_memory_mib == 138.809 and r.ops == ()
    assert r.metrics()["latency_ms_p50"] is None


def test_output_without_results_is_refused():
    with pytest.raises(DeviceError, match="no 'Inference timings in us' summary"):
        parse_benchmark_model("ERROR: Could not open 'x.tflite'.\nERROR: Benchmarking failed.")
    with pytest.raises(DeviceError, match="no statistics line"):
        parse_benchmark_model(OLDER_ANDROID.replace("count=50", "cnt=50").replace("count=1 ", "cnt=1 "))


def test_argv_quotes_nothing_itself_and_bounds_the_run():
    argv = benchmark_argv("/data/local/tmp/bm", "/data/local/tmp/m dir/a;b.tflite", 50, 5, 2, False)
    assert argv[1] == "--graph=/data/local/tmp/m dir/a;b.tflite"  # one argument; the transport quotes it
    assert "--num_runs=50" in argv and "--warmup_runs=5" in argv and "--use_xnnpack=false" in argv
    assert "--min_secs=0" in argv and "--enable_op_profiling=true" in argv
