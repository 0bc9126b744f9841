"""LUT, predictor and prediction on a real Linux device: this machine over SSH (wall-clock)."""

from __future__ import annotations

import json

import pytest

from edgekit.core.trace import TraceStore
from edgekit.lut.table import LutTable

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAST = ("--repeats", "10", "--warmup", "2", "--min-seconds", "0.02")
FAMILIES = "conv,conv1x1,dwconv,pad,add,mean,fc,chain,pair"


def test_lut_build_resume_train_eval_predict(edgekit_cli, sshd, ssh_profile, tmp_path):
    lut = tmp_path / "lut"
    before = sshd.connections()
    code, out = edgekit_cli("lut", "build", "--device", ssh_profile, "--lut", lut, "--families", FAMILIES,
                            "--start", "36", "--arch-archs", "1", "--no-zoo", "--rounds", "0", *FAST, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["measured"] >= 36 and report["emulated"] is False and report["method"] == "wallclock"
    assert sshd.connections() - before == 1                     # one SSH session for the whole sweep
    rows = LutTable(lut, "loopback").rows()
    assert len(rows) == report["measured"] == report["rows"]
    assert set(rows["method"]) == {"wallclock"} and not rows["emulated"].any()
    assert (rows["latency_ms_p50"] > 0).all() and (rows["repeats"] >= 10).all()
    runs = TraceStore(lut / "loopback" / "traces").runs()
    assert set(rows["trace_run_key"]) <= set(runs["run_key"])   # every LUT row points at its trace row
    assert set(runs.set_index("run_key").loc[list(rows["trace_run_key"]), "artifact_sha256"]) == set(rows["artifact_sha256"])
    # noise of this device, measured: the repeated pair/single variants are independent sessions
    assert rows["latency_cv"].notna().all()

    # a rerun resumes: nothing to measure, no connection
    code, out = edgekit_cli("lut", "build", "--device", ssh_profile, "--lut", lut, "--families", FAMILIES,
                            "--start", "36", "--arch-archs", "1", "--no-zoo", "--rounds", "0", *FAST, "--json")
    assert code == 0 and json.loads(out)["measured"] == 0
    assert sshd.connections() - before == 1

    code, out = edgekit_cli("lut", "show", "--device", ssh_profile, "--lut", lut, "--json")
    shown = json.loads(out)
    assert code == 0 and {r["kernel_type"] for r in shown} >= {"conv", "conv1x1", "dwconv", "pad", "fc"}
    assert edgekit_cli("lut", "export", tmp_path / "lut.csv", "--device", ssh_profile, "--lut", lut)[0] == 0
    assert len((tmp_path / "lut.csv").read_text().splitlines()) == len(shown) + 1

    code, out = edgekit_cli("predictor", "train", "--device", ssh_profile, "--lut", lut, "--archs", "6",
                            "--sessions", "1", *FAST, "--json")
    assert code == 0
    meta = json.loads(out)
    assert meta["device_id"] == "loopback" and meta["whole_models"]["arch"] == 6 and meta["overhead"]["value"] > 0

    code, out = edgekit_cli("predictor", "eval", "--device", ssh_profile, "--lut", lut, "--archs", "8",
                            "--converter", "0", "--no-zoo", "--sessions", "1", *FAST, "--out", tmp_path / "eval",
                            "--json")
    assert code == 0
    res = json.loads(out)
    t = res["table"]["all"]
    assert t["gbm_corrected"]["n"] == 8 and set(t) == {"flops", "lut_sum", "gbm", "gbm_corrected"}
    # what this tiny LUT (36 configurations) and 6 training models reach on a noisy shared machine
    assert t["gbm_corrected"]["mape_pct"] < 60.0
    assert (tmp_path / "eval" / "eval-loopback.png").read_bytes()[:4] == b"\x89PNG"

    arch = tmp_path / "lut" / "archs"
    model = sorted(arch.glob("arch-*.tflite"))[0]
    code, out = edgekit_cli("predict", model, "--device", ssh_profile, "--lut", lut, "--json")
    p = json.loads(out)
    assert code == 0 and p["method"] == "modelled" and p["unit"] == "ms" and p["value"] > 0
    assert p["interval"][0] <= p["value"] <= p["interval"][1]
