"""collect(): one row per (model, run set), appended as measured, resumed by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.core.errors import DeviceError
from edgekit.core.profile import load_profile
from edgekit.core.trace import TraceStore
from edgekit.measure.collect import Measurement, ModelJob, collect
from edgekit.measure.options import ProfileOptions


class FakeMeasurer:
    def __init__(self, fail_at: int | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail_at = fail_at
        self.prepared = 0

    def prepare(self) -> None:
        self.prepared += 1

    def config(self, options: ProfileOptions) -> dict:
        return {**options.identity(), "tool": "fake"}

    def measure(self, job, options, on_progress) -> Measurement:
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise DeviceError("SSH connection lost")
        self.calls.append((job.name, len(self.calls)))
        on_progress(options.repeats, options.repeats)
        return Measurement(metrics={"latency_ms_p50": 1.0 + len(self.calls), "repeats": options.repeats},
                           runner_version="fake/1", tool_versions={"fake": "1"})


def _jobs(tmp_path: Path) -> list[ModelJob]:
    out = []
    for name in ("a", "b"):
        p = tmp_path / f"{name}.tflite"
        p.write_bytes(name.encode() * 10)
        out.append(ModelJob.from_path(p))
    return out


def test_interrupted_run_resumes_without_duplicates_or_gaps(tmp_path):
    device = load_profile("localhost-ssh")
    store = TraceStore(tmp_path / "t")
    jobs = _jobs(tmp_path)
    options = ProfileOptions(repeats=7, sessions=3)
    first = FakeMeasurer(fail_at=4)
    with pytest.raises(DeviceError):
        collect(jobs, first, device, options, store)
    assert len(store.runs()) == 4
    events = []
    second = FakeMeasurer()
    result = collect(jobs, second, device, options, store, events.append)
    assert len(result.skipped) == 4 and len(result.written) == 2 and second.calls == [("b", 0), ("b", 1)]
    runs = store.runs()
    assert sorted(zip(runs["model_name"], runs["run_set"])) == [(m, s) for m in "ab" for s in range(3)]
    assert [e.kind for e in events].count("skip") == 4 and [e.kind for e in events].count("done") == 2
    assert set(runs["method"]) == {"wallclock"} and set(runs["device_id"]) == {"localhost-ssh"}
    third = FakeMeasurer()
    assert collect(jobs, third, device, options, store).written == [] and third.prepared == 0  # nothing to do


def test_a_different_configuration_is_a_different_row(tmp_path):
    device = load_profile("localhost-ssh")
    store = TraceStore(tmp_path / "t")
    jobs = _jobs(tmp_path)[:1]
    collect(jobs, FakeMeasurer(), device, ProfileOptions(repeats=5), store)
    collect(jobs, FakeMeasurer(), device, ProfileOptions(repeats=5, xnnpack=False), store)
    collect(jobs, FakeMeasurer(), device, ProfileOptions(repeats=5, sessions=1, timeout_s=5), store)  # same row
    assert len(store.runs()) == 2


def test_options_are_validated():
    from edgekit.core.errors import UsageError

    with pytest.raises(UsageError, match="--repeats must be at least 1"):
        ProfileOptions(repeats=0)
    with pytest.raises(UsageError, match="--sessions"):
        ProfileOptions(sessions=0)


class _EnergyMeasurer(FakeMeasurer):
    def measure(self, job, options, on_progress) -> Measurement:
        m = super().measure(job, options, on_progress)
        return Measurement(metrics={**m.metrics, "energy_mj": 12.5, "energy_source": "rapl",
                                    "rss_bytes_peak": 48 * 2**20},
                           runner_version=m.runner_version, tool_versions=m.tool_versions)


def test_energy_is_shown_with_its_source_in_both_tables(tmp_path, capsys):
    import json

    from edgekit.cli.main import main
    from edgekit.cli.profile import ProfileCommand

    device = load_profile("localhost-ssh")
    store = TraceStore(tmp_path / "t")
    result = collect(_jobs(tmp_path)[:1], _EnergyMeasurer(), device, ProfileOptions(repeats=3), store)
    capsys.readouterr()
    ProfileCommand._report(store, result, as_json=False)
    table = capsys.readouterr().out
    assert "energy source" in table and "rapl" in table and "12.500" in table
    assert "48.0" in table  # peak RSS MiB, from rss_bytes_peak
    assert main(["traces", "list", "--traces", str(store.root), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["energy_mj"], r["energy_source"]) for r in listed] == [(12.5, "rapl")]
    assert main(["traces", "list", "--traces", str(store.root)]) == 0
    assert "energy_source" in capsys.readouterr().out
    # rows with energy but no recorded source still get the column, shown as missing
    bare = TraceStore(tmp_path / "bare")
    collect(_jobs(tmp_path)[1:], _SourcelessMeasurer(), device, ProfileOptions(repeats=3), bare)
    assert main(["traces", "list", "--traces", str(bare.root), "--json"]) == 0
    assert [(r["energy_mj"], r["energy_source"]) for r in json.loads(capsys.readouterr().out)] == [(7.0, None)]


class _SourcelessMeasurer(FakeMeasurer):
    def measure(self, job, options, on_progress) -> Measurement:
        m = super().measure(job, options, on_progress)
        return Measurement(metrics={**m.metrics, "energy_mj": 7.0}, runner_version=m.runner_version,
                           tool_versions=m.tool_versions)
