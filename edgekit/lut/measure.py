"""Measure LUT configurations on a device through the existing measurement paths.

- Linux / Android (``LinuxBackend``): one .tflite per variant, all through one session of the
  on-device runner (edgekit.measure.collect: one connection, each model pushed once), one trace
  row per model in the trace store, one LUT row per model as soon as it is measured.
- Microcontrollers (``McuBackend``): variants packed into batch graphs; one firmware per batch,
  built with per-layer timing, run once (edgekit.measure.mcu_run, outputs checked bit-exact
  against the host references); one LUT row per layer.

Rows are written as they are measured: an interrupted or failing sweep keeps everything measured
before the failure, and a rerun skips it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from edgekit.core.profile import DeviceProfile
from edgekit.core.trace import TraceStore, run_key
from edgekit.lut.generate import BatchLimits, Member, make_batches, model_path
from edgekit.lut.signatures import graph_signatures, inplace_ops, sig_key
from edgekit.lut.table import Provenance, make_row
from edgekit.core.version import edgekit_version
from edgekit.measure.mcu_tools import board_code_version, mcu_tool_versions
from edgekit.tflite.reader import read_tflite

RowSink = Callable[[list[dict[str, Any]]], None]


@dataclass(frozen=True)
class Job:
    member: Member
    u: tuple[float, ...]
    round: int
    source: str          # sobol | refine | repeat | arch
    run_set: int = 0


class Backend(Protocol):
    provenance: Provenance
    per_layer: bool          # measures each layer of a model (then whole models give operator rows)

    def measure(self, jobs: list[Job], sink: RowSink) -> None: ...
    def close(self) -> None: ...


def _unit_rows(prov: Provenance, job: Job, path: Path, metrics: dict[str, Any], sha: str, trace_key: str | None,
               runner_version: str, tools: dict[str, str]) -> list[dict[str, Any]]:
    """Rows of one variant measured whole: one operator row, or one unit row for several ops."""
    sigs = graph_signatures(read_tflite(path))
    m = job.member
    if len(sigs) == 1:
        s = sigs[0]
        key, ktype, text, feats = s.key, s.kernel_type, s.text, s.features
    else:
        text = json.dumps([json.loads(s.text) for s in sigs], sort_keys=True, separators=(",", ":"))
        key, ktype, feats = sig_key(text), "+".join(s.kernel_type for s in sigs), None
    return [make_row(prov, config_key=m.config.key, family=m.config.family, config=m.config.to_json(),
                     variant=m.variant, op_pos=-1, n_ops=len(sigs), sig_key=key, kernel_type=ktype, signature=text,
                     features=feats, u=job.u, round_=job.round, source=job.source, run_set=job.run_set,
                     metrics=metrics, artifact_sha256=sha, trace_run_key=trace_key, runner_version=runner_version,
                     tool_versions=tools)]


class LinuxBackend:
    """Linux (SSH) and Android (ADB) devices: the on-device runner, one session for all models."""

    per_layer = False

    def __init__(self, profile: DeviceProfile, target: Any, measurer: Any, options: Any, root: Path,
                 store: TraceStore) -> None:
        self.profile, self.target, self.measurer, self.options = profile, target, measurer, options
        self.root, self.store = root, store
        self.provenance = Provenance(profile.id, profile.kind, profile.emulated, profile.timing,
                                     {"path": "runner", **measurer.config(options)})

    @classmethod
    def connect(cls, profile: DeviceProfile, options: Any, root: Path, store: TraceStore,
                trust_on_first_use: bool = False) -> "LinuxBackend":
        from edgekit.measure.energy.factory import meter_for
        from edgekit.measure.runner_client import RunnerMeasurer

        if profile.kind == "android":
            from edgekit.targets.android import AndroidTarget

            target: Any = AndroidTarget.from_profile(profile)
        else:
            from edgekit.targets.linux import LinuxTarget

            target = LinuxTarget.from_profile(profile, trust_on_first_use)
        return cls(profile, target, RunnerMeasurer(target, meter_for(profile)), options, root, store)

    def measure(self, jobs: list[Job], sink: RowSink) -> None:
        from dataclasses import replace

        from edgekit.measure.collect import Event, ModelJob, collect

        by_set: dict[int, list[Job]] = {}
        for j in jobs:
            by_set.setdefault(j.run_set, []).append(j)
        config = self.measurer.config(self.options)
        for run_set, group in sorted(by_set.items()):
            paths = {j.member.key: model_path(self.root, j.member.config, j.member.variant) for j in group}
            model_jobs = {j.member.key: ModelJob.from_path(paths[j.member.key]) for j in group}
            for k, mj in model_jobs.items():
                model_jobs[k] = ModelJob(mj.path, mj.sha256, k)
            by_name = {j.member.key: j for j in group}

            def on_event(e: Event, by_name: dict[str, Job] = by_name) -> None:
                if e.kind not in ("done", "skip") or e.run_set != run_set:
                    return
                job, mj = by_name[e.model], model_jobs[e.model]
                key = run_key(mj.sha256, self.profile.id, config, run_set)
                if e.record is not None:
                    identity, metrics = e.record.identity, e.record.metrics
                else:  # measured by an earlier, interrupted build: take it from the trace store
                    runs = self.store.runs()
                    row = runs[runs["run_key"] == key].iloc[-1].to_dict()
                    identity, metrics = row, row
                wanted = {m: metrics.get(m) for m in ("latency_ms_p50", "latency_ms_min", "latency_ms_mean",
                                                      "latency_cv", "repeats")}
                wanted["repeats"] = None if wanted["repeats"] is None else int(wanted["repeats"])
                tools = json.loads(identity["tool_versions"]) if isinstance(identity["tool_versions"], str) else {}
                sink(_unit_rows(self.provenance, job, mj.path, wanted, mj.sha256, key,
                                str(identity["runner_version"]), {**tools, "edgekit": edgekit_version()}))

            collect(list(model_jobs.values()), self.measurer, self.profile,
                    replace(self.options, sessions=run_set + 1), self.store, on_event)

    def close(self) -> None:
        self.target.close()


class McuBackend:
    """Microcontroller boards: batch graphs, one firmware each, per-layer instruction/cycle counts."""

    per_layer = True

    def __init__(self, profile: DeviceProfile, root: Path, store: TraceStore, kernels: str = "portable",
                 cmsis_nn_path: str | None = None, limits: BatchLimits = BatchLimits()) -> None:
        from edgekit.measure.mcu_run import McuRunOptions

        self.profile, self.root, self.store = profile, root, store
        self.limits = limits
        self.options = McuRunOptions(count=1, per_layer=True, kernels=kernels, cmsis_nn_path=cmsis_nn_path)
        self.provenance = Provenance(profile.id, profile.kind, profile.emulated, profile.timing,
                                     {"path": "firmware-batch", "kernels": kernels, "per_layer": True, "inputs": 1,
                                      "repeats": 1, "board_code": board_code_version(kernels), "signature": 2})
        self.kernels = kernels
        self.tools = mcu_tool_versions(profile.emulated, kernels)
        self.work = root / profile.id / "mcu-work"

    def measure(self, jobs: list[Job], sink: RowSink) -> None:
        from edgekit.measure.mcu_run import result_record, run_model

        from edgekit.core.errors import DeviceError

        by_key = {j.member.key: j for j in jobs}
        for batch in make_batches([j.member for j in jobs], self.root, self.limits):
            if board_code_version(self.kernels) != self.provenance.measure_config["board_code"]:
                raise DeviceError("the code that runs on the board (edgekit/codegen, firmware/) changed during the "
                                  "LUT build", "rerun the build: it measures with the new code under a new key")
            result = run_model(batch.path, self.profile, self.options, work_dir=self.work)
            record = result_record(result, self.profile, self.tools)
            self.store.append(record)
            graph = read_tflite(batch.path)
            sigs = graph_signatures(graph, inplace_ops(graph, self.profile.cpu))
            count_col = "instructions" if result.method == "qemu-icount" else "cycles"
            rows = []
            for member, (first, last) in zip(batch.members, batch.op_ranges):
                job = by_key[member.key]
                for pos, op_index in enumerate(range(first, last)):
                    s = sigs[op_index]
                    count = _layer_count(result, graph, op_index)
                    rows.append(make_row(
                        self.provenance, config_key=member.config.key, family=member.config.family,
                        config=member.config.to_json(), variant=member.variant, op_pos=pos, n_ops=1, sig_key=s.key,
                        kernel_type=s.kernel_type, signature=s.text, features=s.features, u=job.u, round_=job.round,
                        source=job.source, run_set=job.run_set, metrics={count_col: count},
                        artifact_sha256=result.artifact_sha256, trace_run_key=record.identity["run_key"],
                        runner_version=record.identity["runner_version"], tool_versions=self.tools))
            sink(rows)

    def close(self) -> None:
        pass


def _layer_count(result: Any, graph: Any, op_index: int) -> int:
    """A layer's count; a view (RESHAPE: no code runs, the firmware stamps none, and leaves a
    trailing one out of its layer list) is measured as running no code: 0."""
    from edgekit.codegen.lifetimes import is_view_op

    from edgekit.core.errors import DeviceError

    op = graph.operators[op_index]
    layer = result.layers[op_index] if op_index < len(result.layers) else None
    if layer is not None and layer.count is not None:
        return int(layer.count)
    if is_view_op(op.opcode):
        return 0
    raise DeviceError(f"the firmware reported no count for layer {op_index} ({op.opcode})",
                      "rebuild the firmware with per-layer timing; rerun (measured batches are kept)")


def jobs_from(items: list[tuple[Any, np.ndarray]], round_: int, source: str, run_set: int = 0) -> list[Job]:
    from edgekit.lut.space import family

    out = []
    for cfg, u in items:
        for v in family(cfg.family).variants:
            out.append(Job(Member(cfg, v), tuple(float(x) for x in u), round_, source, run_set))
    return out
