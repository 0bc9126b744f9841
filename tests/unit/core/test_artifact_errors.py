from __future__ import annotations

import hashlib
import os

import pytest

from edgekit.core.artifact import Artifact, atomic_write_bytes
from edgekit.core.errors import EdgekitError, InputFileError


def test_error_is_one_line_with_hint():
    e = InputFileError("model.tflite: truncated\nat byte 12", "re-export the model")
    assert e.one_line() == "error: model.tflite: truncated at byte 12 (hint: re-export the model)"
    assert e.exit_code != 0 and isinstance(e, EdgekitError)


def test_artifact_hash_matches_content(tmp_path):
    p = tmp_path / "m.bin"
    p.write_bytes(b"abc" * 1000)
    a = Artifact.from_file("tflite-int8", p, model="m")
    assert a.sha256 == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert a.to_dict()["meta"] == {"model": "m"}
    with pytest.raises(ValueError):
        Artifact("nonsense", p, "")


def test_atomic_write_leaves_old_content_when_write_fails(tmp_path, monkeypatch):
    p = tmp_path / "out.json"
    atomic_write_bytes(p, b"old")

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        atomic_write_bytes(p, b"new")
    assert p.read_bytes() == b"old"
    assert [f.name for f in tmp_path.iterdir()] == ["out.json"]
