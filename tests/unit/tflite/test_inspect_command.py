"""`edgekit inspect`: the table and totals it prints come from the reader and stats."""

from __future__ import annotations

import argparse
import json

import pytest

from _support import asset
from edgekit.cli.inspect import InspectCommand
from edgekit.core.errors import InputFileError
from edgekit.tflite.reader import read_tflite
from edgekit.tflite.stats import model_stats

KWS = "models/mlperf_tiny/kws_ref_model_int8.tflite"


def _run(argv: list[str]) -> int:
    cmd = InspectCommand()
    parser = argparse.ArgumentParser(prog="edgekit inspect")
    cmd.add_arguments(parser)
    return cmd.invoke(parser.parse_args(argv))


def test_table_and_totals(capsys):
    path = asset(KWS)
    assert _run([str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    g = read_tflite(path)
    stats = model_stats(g)
    rows = [line.split() for line in out[2:2 + len(g.operators)]]
    assert [(int(r[0]), r[1]) for r in rows] == [(op.index, op.opcode) for op in g.operators]
    assert [int(r[3].replace(",", "")) for r in rows] == [r.macs for r in stats.ops]
    assert f"total MACs: {stats.total_macs:,}" in out
    assert f"parameter bytes: {stats.parameter_bytes:,}" in out
    assert f"largest activation bytes: {stats.largest_activation_bytes:,}" in out


def test_json(capsys):
    path = asset("models/tflm_examples/person_detect_vela.tflite")
    assert _run([str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    g = read_tflite(path)
    assert doc["sha256"] == g.sha256
    assert [o["opcode"] for o in doc["ops"]] == ["CUSTOM:ethos-u"]
    assert doc["ops"][0]["macs"] is None and doc["macs_unknown_ops"] == [0]
    assert doc["parameter_bytes"] == model_stats(g).parameter_bytes


def test_bad_file_raises_typed_error(tmp_path):
    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(InputFileError, match="not a valid TFLite model"):
        _run([str(bad)])
