"""The benchmark_model parser against output in the tool's documented format (README of
tensorflow/lite/tools/benchmark): a newer build with percentiles and op profiling behind "INFO: "
prefixes, an older Android build printing to logcat style without them, and a build whose
StatsCalculator (tsl) prints no [start] column and reports the peak RSS by periodic monitoring
(tests/fixtures/benchmark_model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.core.errors import DeviceError
from edgekit.measure.benchmark_model import benchmark_argv, parse_benchmark_model

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "benchmark_model"
NEWER = (FIXTURES / "newer_op_profiling.txt").read_text()
OLDER_ANDROID = (FIXTURES / "older_android.txt").read_text()
TSL = (FIXTURES / "tsl_without_start_column.txt").read_text()


def test_newer_build_with_percentiles_and_op_profiling():
    r = parse_benchmark_model(NEWER)
    assert (r.count, r.avg_us, r.std_us, r.min_us, r.max_us, r.median_us) == (50, 458.3, 37, 439, 702, 449)
    assert (r.init_us, r.first_inference_us, r.warmup_avg_us) == (3412, 912, 503.6)
    assert (r.rss_growth_mib, r.rss_peak_mib) == (3.51562, None)  # a growth since start, not a peak
    assert [(o.index, o.op, o.avg_ms) for o in r.ops] == [
        (0, "CONV_2D", 0.079), (1, "DEPTHWISE_CONV_2D", 0.028), (10, "AVERAGE_POOL_2D", 0.004),
        (11, "FULLY_CONNECTED", 0.004)]
    assert r.ops[0].name == "[functional/conv2d/Relu]:0"
    m = r.metrics()
    assert m["latency_ms_p50"] == pytest.approx(0.449) and m["latency_ms_mean"] == pytest.approx(0.4583)
    assert m["latency_ms_p90"] is None and m["latency_ms_p99"] is None  # not printed: not invented
    assert m["latency_cv"] == pytest.approx(37 / 458.3)
    assert m["rss_bytes_peak"] is None and "ram_bytes_peak" not in m  # the growth is no peak: not recorded
    assert m["model_load_ms"] == pytest.approx(3.412)


def test_older_android_build_without_percentiles():
    r = parse_benchmark_model(OLDER_ANDROID)
    assert (r.count, r.avg_us, r.std_us, r.median_us) == (50, 249684, 1442, None)
    assert (r.rss_growth_mib, r.rss_peak_mib) == (138.809, None) and r.ops == ()
    assert r.metrics()["latency_ms_p50"] is None


def test_operator_table_without_the_start_column_is_read_by_header_names():
    r = parse_benchmark_model(TSL)
    assert (r.count, r.avg_us, r.std_us, r.min_us, r.max_us, r.median_us) == (50, 1911.06, 71, 1862, 2304, 1889)
    assert [(o.index, o.op, o.avg_ms) for o in r.ops] == [
        (0, "CONV_2D", 0.398), (1, "DEPTHWISE_CONV_2D", 0.221), (2, "CONV_2D", 0.297), (29, "MEAN", 0.011),
        (30, "FULLY_CONNECTED", 0.004), (31, "SOFTMAX", 0.002)]  # [avg ms], not [first] nor [%]
    assert r.ops[-1].name == "[StatefulPartitionedCall:0]:31"
    assert (r.rss_peak_mib, r.rss_growth_mib) == (12.3828, 6.94922)
    assert r.metrics()["rss_bytes_peak"] == round(12.3828 * 2**20)


def test_statistics_the_tool_did_not_print_stay_missing():
    text = OLDER_ANDROID.replace(" min=247067 max=254474", "").replace(" std=1442", "")
    r = parse_benchmark_model(text)
    assert (r.avg_us, r.std_us, r.min_us, r.max_us) == (249684, None, None, None)
    m = r.metrics()
    assert m["latency_ms_mean"] == pytest.approx(249.684)
    assert m["latency_ms_std"] is None and m["latency_cv"] is None
    assert m["latency_ms_min"] is None and m["latency_ms_max"] is None  # never the mean standing in


def test_a_broken_operator_table_is_one_device_error():
    header_at = TSL.index("[node type]", TSL.index("Regular Benchmark Runs"))
    no_avg = TSL[:header_at] + TSL[header_at:].replace("[avg ms]", "[mean]", 1)
    with pytest.raises(DeviceError, match=r"no \[avg ms\] column"):
        parse_benchmark_model(no_avg)
    with pytest.raises(DeviceError, match="non-numeric"):
        parse_benchmark_model(TSL.replace("    0.221\t", "    n/a\t", 1))
    with pytest.raises(DeviceError, match="cells"):
        parse_benchmark_model(TSL.replace("\t        1\t[sequential/dw_1/Relu6]:1", ""))


@pytest.mark.parametrize("fixture", [NEWER, OLDER_ANDROID, TSL], ids=["newer", "older", "tsl"])
def test_output_cut_anywhere_parses_or_fails_with_a_device_error(fixture):
    """Output cut at any line (a killed tool, a lost connection) never raises anything else."""
    lines = fixture.splitlines(keepends=True)
    outcomes = set()
    for n in range(len(lines) + 1):
        for cut in ("".join(lines[:n]), "".join(lines[:n]) + lines[n][: len(lines[n]) // 2] if n < len(lines) else ""):
            try:
                parse_benchmark_model(cut)
                outcomes.add("parsed")
            except DeviceError:
                outcomes.add("refused")
    assert outcomes == {"parsed", "refused"}


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
