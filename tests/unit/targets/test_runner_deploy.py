"""Deploying the runner and models through a transport (a fake one that records what it is asked)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import pytest

from edgekit.core.errors import DeviceError, ToolMissingError
from edgekit.core.profile import load_profile
from edgekit.core.transport import Capability, RunResult, Transport
from edgekit.measure.runner_client import RunnerMeasurer
from edgekit.measure.runner_output import RUNNER_VERSION
from edgekit.targets.android import AndroidTarget
from edgekit.targets.linux import LinuxTarget, local_runner_version


class RecordingTransport(Transport):
    capabilities = frozenset({Capability.FILES, Capability.EXEC})

    def __init__(self, probe: dict) -> None:
        self.pushes: list[tuple[str, PurePosixPath]] = []
        self.runs: list[list[str]] = []
        self.opened = self.closed = 0
        self.probe = probe

    def open(self) -> None:
        self.opened += 1

    def close(self) -> None:
        self.closed += 1

    def push(self, local: str, remote: PurePosixPath) -> None:
        self.pushes.append((local, remote))

    def run(self, argv, timeout_s, stdin=b"", on_stdout=None) -> RunResult:
        self.runs.append(list(argv))
        return RunResult(0, (json.dumps(self.probe) + "\n").encode(), b"")


PROBE = {"runner": "edgekit_runner", "runner_version": RUNNER_VERSION, "runtime": {"name": "tflite_runtime", "version": "2.14.0"}}


def test_runner_and_models_are_pushed_once_under_their_own_names(tmp_path):
    t = RecordingTransport(PROBE)
    target = LinuxTarget(load_profile("rpi4"), t)
    model = tmp_path / "my model;$(x).tflite"
    model.write_bytes(b"m" * 100)
    with target:
        m = RunnerMeasurer(target)
        m.prepare()
        a = target.deploy_file(model)
        b = target.deploy_file(model)
    assert a == b and a.name == model.name and a.parent.parent == PurePosixPath("/tmp/edgekit-device/models")
    runner_remote = PurePosixPath(f"/tmp/edgekit-device/edgekit_runner-v{RUNNER_VERSION}.py")
    assert [r for _, r in t.pushes] == [runner_remote, a]
    assert t.runs == [["python3", str(runner_remote), "--probe"]]
    assert (t.opened, t.closed) == (1, 1)
    assert m.probe.runtime == "tflite_runtime 2.14.0"


def test_a_runner_of_another_version_is_refused():
    t = RecordingTransport({**PROBE, "runner_version": "999"})
    with pytest.raises(DeviceError, match="version '999'"):
        RunnerMeasurer(LinuxTarget(load_profile("rpi4"), t)).prepare()


def test_a_device_without_runtime_is_refused_at_prepare():
    t = RecordingTransport({**PROBE, "runtime": {"name": None, "version": None}})
    with pytest.raises(ToolMissingError, match="neither ai_edge_litert nor tflite_runtime"):
        RunnerMeasurer(AndroidTarget(load_profile("android-arm64"), t, python="/data/py/bin/python3")).prepare()
    assert t.runs[0][0] == "/data/py/bin/python3"
    assert str(t.pushes[0][1]).startswith("/data/local/tmp/edgekit/")


def test_local_runner_version_is_read_from_the_file(tmp_path):
    f = tmp_path / "r.py"
    f.write_text('x = 1\nRUNNER_VERSION = "7"\n')
    assert local_runner_version(f) == "7"
    f.write_text("nothing\n")
    with pytest.raises(ToolMissingError):
        local_runner_version(f)


def test_benchmark_binary_is_made_executable(tmp_path):
    t = RecordingTransport(PROBE)
    target = AndroidTarget(load_profile("android-arm64"), t)
    binary = tmp_path / "benchmark_model"
    binary.write_bytes(b"\x7fELF")
    remote = target.deploy_binary(binary)
    assert remote.name == "benchmark_model" and t.runs[-1] == ["chmod", "755", str(remote)]


def test_energy_meter_files_are_checked_before_measuring():
    from edgekit.measure.energy.rapl import RaplMeter

    meter = RaplMeter("/sys/class/powercap/intel-rapl:0")
    counter = "/sys/class/powercap/intel-rapl:0/energy_uj"
    t = RecordingTransport({**PROBE, "readable": {counter: False}})
    with pytest.raises(DeviceError, match="rapl energy meter's .*energy_uj cannot be read"):
        RunnerMeasurer(LinuxTarget(load_profile("rpi4"), t), meter).prepare()
    assert t.runs[0][-2:] == ["--readable", counter]
    t = RecordingTransport({**PROBE, "readable": {counter: True}})
    RunnerMeasurer(LinuxTarget(load_profile("rpi4"), t), meter).prepare()
