"""Parse what tools/edgekit_runner.py printed (pure functions of its stdout and exit code)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from edgekit.core.errors import DeviceError, ToolMissingError, UnsupportedModelError

# The host accepts only documents from a runner of exactly this version.
RUNNER_VERSION = "2"


@dataclass(frozen=True)
class RunnerDoc:
    raw: dict[str, Any]

    @property
    def runtime(self) -> str:
        rt = self.raw.get("runtime") or {}
        return f"{rt.get('name')} {rt.get('version')}"

    @property
    def latencies_ns(self) -> list[int]:
        return [int(x) for x in self.raw["latencies_ns"]]

    @property
    def window_s(self) -> float:
        return (self.raw["window_end_ns"] - self.raw["window_start_ns"]) / 1e9


def split_lines(stdout: bytes) -> tuple[list[str], list[str], list[str]]:
    """(progress lines, mark lines, other lines) of the runner's stdout."""
    progress, marks, other = [], [], []
    for line in stdout.decode("utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line:
            continue
        (progress if line.startswith("progress ") else marks if line.startswith("mark ") else other).append(line)
    return progress, marks, other


def parse_runner_output(stdout: bytes, exit_code: int, stderr: bytes = b"") -> RunnerDoc:
    """The runner's one JSON document, checked: version, error report, required fields."""
    _, _, other = split_lines(stdout)
    docs = [line for line in other if line.startswith("{")]
    if len(docs) != 1:
        tail = (stderr.decode(errors="replace").strip().splitlines() or [""])[-1]
        raise DeviceError(f"the runner printed {len(docs)} JSON documents, expected 1 (exit code {exit_code}) {tail}".strip(),
                          "check the device's python (profile [transport] python) can run tools/edgekit_runner.py")
    try:
        raw = json.loads(docs[0])
    except json.JSONDecodeError as e:
        raise DeviceError(f"the runner's output is not valid JSON: {e}", "the output was cut; rerun") from None
    version = raw.get("runner_version")
    if version != RUNNER_VERSION:
        raise DeviceError(f"the device runs edgekit_runner version {version!r}, this host needs {RUNNER_VERSION!r}",
                          "redeploy tools/edgekit_runner.py from this checkout")
    err = raw.get("error")
    if err:
        kind, msg = err.get("type", "error"), err.get("message", "")
        if kind == "NoRuntime":
            raise ToolMissingError(f"on the device: {msg}", "pip install ai-edge-litert (or tflite-runtime) there, "
                                   "or point [transport] python at an interpreter that has it")
        if kind == "ModelLoad":
            raise UnsupportedModelError(f"on the device: {msg}")
        raise DeviceError(f"the runner failed on the device ({kind}): {msg}")
    if exit_code != 0:
        raise DeviceError(f"the runner exited with code {exit_code} but reported no error", "run it by hand on the device")
    if "latencies_ns" in raw:
        for key in ("window_start_ns", "window_end_ns", "rss_bytes_peak", "config", "model"):
            if key not in raw:
                raise DeviceError(f"the runner's document lacks {key!r}", "redeploy tools/edgekit_runner.py")
    return RunnerDoc(raw)
