"""Run measurements and record them: one trace row per (model, device, configuration, run set).

Resumable: the run key of every wanted row is computed first, rows already in the store are
skipped, and each new row is appended (atomically) as soon as it is measured, so a cut connection
or a killed process loses at most the row in flight; the rerun measures exactly what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from edgekit.core.artifact import sha256_file
from edgekit.core.errors import InputFileError
from edgekit.core.profile import DeviceProfile
from edgekit.core.trace import RunRecord, TraceStore, run_key
from edgekit.measure.options import ProfileOptions


@dataclass(frozen=True)
class ModelJob:
    path: Path
    sha256: str
    name: str

    @staticmethod
    def from_path(path: Path) -> "ModelJob":
        if not path.is_file():
            raise InputFileError(f"model {path} does not exist")
        return ModelJob(path, sha256_file(path), path.stem)


@dataclass(frozen=True)
class Measurement:
    metrics: dict[str, Any]
    runner_version: str
    tool_versions: dict[str, str]
    layers: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Event:
    kind: str                 # "skip" | "start" | "progress" | "done"
    model: str
    run_set: int
    done: int = 0             # timed inferences finished (progress)
    total: int = 0
    record: RunRecord | None = None


class Measurer(Protocol):
    def prepare(self) -> None: ...
    def config(self, options: ProfileOptions) -> dict[str, Any]: ...
    def measure(self, job: ModelJob, options: ProfileOptions, on_progress: Callable[[int, int], None]) -> Measurement: ...


@dataclass
class CollectResult:
    written: list[RunRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # run keys already in the store


def collect(jobs: list[ModelJob], measurer: Measurer, device: DeviceProfile, options: ProfileOptions,
            store: TraceStore, on_event: Callable[[Event], None] | None = None) -> CollectResult:
    emit = on_event or (lambda e: None)
    config = measurer.config(options)
    done = store.done_keys()
    result = CollectResult()
    todo = []
    for job in jobs:
        for run_set in range(options.sessions):
            key = run_key(job.sha256, device.id, config, run_set)
            if key in done:
                result.skipped.append(key)
                emit(Event("skip", job.name, run_set))
            else:
                todo.append((job, run_set))
    if not todo:
        return result
    measurer.prepare()
    for job, run_set in todo:
        emit(Event("start", job.name, run_set, 0, options.repeats))
        m = measurer.measure(job, options, lambda k, n, j=job, r=run_set: emit(Event("progress", j.name, r, k, n)))
        record = RunRecord.make(
            artifact_sha256=job.sha256, model_name=job.name, device_id=device.id, device_kind=device.kind,
            emulated=device.emulated, method=device.timing, config=config, runner_version=m.runner_version,
            tool_versions=m.tool_versions, metrics=m.metrics, layers=m.layers, run_set=run_set)
        store.append(record)
        result.written.append(record)
        emit(Event("done", job.name, run_set, options.repeats, options.repeats, record))
    return result
