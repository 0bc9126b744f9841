"""Whole models for training and for honest evaluation, and their measurement on the device.

- training architectures: ``sample_architectures(n, TRAIN_SEED)`` from the MCU space;
- held-out architectures: drawn with another seed, excluding every key of a large training pool,
  so no held-out architecture is ever a training one; plus a few converted through Keras and the
  TFLite converter (``converter``), and the MLPerf Tiny reference models (``zoo``) when
  ../shared/assets is present.

Measurement goes through the paths the rest of edgekit uses: Linux/Android through the on-device
runner (sessions interleaved, each model's fastest session kept, as for the LUT), microcontrollers
through ``mcu_run.run_model`` (outputs checked bit-exact). Results are trace rows; a rerun reuses
them instead of measuring again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from edgekit.core.artifact import sha256_file
from edgekit.core.profile import DeviceProfile
from edgekit.core.trace import TraceStore
from edgekit.predict.archbuild import arch_tflite
from edgekit.lut.archgraph import ZOO
from edgekit.lut.archspace import sample_architectures
from edgekit.predict.train import WholeModel
from edgekit.tflite.reader import read_tflite

TRAIN_SEED, TEST_SEED, TRAIN_POOL = 1000, 2000, 2000


@dataclass(frozen=True)
class ModelItem:
    name: str
    path: Path
    source: str          # arch | converter | zoo


def train_items(n: int, cache: Path) -> list[ModelItem]:
    return [ModelItem(f"arch-{s.key}", arch_tflite(s, cache), "arch") for s in sample_architectures(n, TRAIN_SEED)]


def test_items(n: int, cache: Path, converter: int = 0, zoo: bool = True, assets: Path | None = None) -> list[ModelItem]:
    pool = {s.key for s in sample_architectures(TRAIN_POOL, TRAIN_SEED)}
    specs = sample_architectures(n + converter, TEST_SEED, exclude=pool)
    items = [ModelItem(f"arch-{s.key}", arch_tflite(s, cache), "arch") for s in specs[:n]]
    items += [ModelItem(f"keras-{s.key}", arch_tflite(s, cache, converter=True), "converter") for s in specs[n:]]
    if zoo and assets is not None:
        for name in ZOO:
            p = assets / "models" / "mlperf_tiny" / f"{name}.tflite"
            if p.is_file():
                items.append(ModelItem(name, p, "zoo"))
    return items


def _linux_measure(items: list[ModelItem], profile: DeviceProfile, options: Any, store: TraceStore, sessions: int,
                   trust_on_first_use: bool, progress: Callable[[int, int], None]) -> dict[str, tuple[float, tuple[str, ...]]]:
    from edgekit.core.trace import run_key
    from edgekit.measure.collect import ModelJob, collect
    from edgekit.measure.energy.factory import meter_for
    from edgekit.measure.runner_client import RunnerMeasurer
    from edgekit.targets.linux import LinuxTarget

    jobs = [ModelJob(i.path, sha256_file(i.path), i.name) for i in items]
    target = LinuxTarget.from_profile(profile, trust_on_first_use)
    measurer = RunnerMeasurer(target, meter_for(profile))
    try:
        for s in range(1, sessions + 1):   # one pass per session: interference does not hit one model only
            collect(jobs, measurer, profile, replace(options, sessions=s), store)
            progress(s * len(jobs), sessions * len(jobs))
    finally:
        target.close()
    config = measurer.config(options)
    runs = store.runs().set_index("run_key")
    out = {}
    for j in jobs:
        keys = tuple(run_key(j.sha256, profile.id, config, s) for s in range(sessions))
        p50 = [float(runs.loc[k, "latency_ms_p50"]) for k in keys]
        out[j.name] = (min(p50), keys)
    return out


def mcu_config(kernels: str) -> dict[str, Any]:
    return {"kernels": kernels, "per_layer": False, "inputs": 1, "repeats": 1}


def _mcu_measure(items: list[ModelItem], profile: DeviceProfile, store: TraceStore, work: Path,
                 kernels: str, progress: Callable[[int, int], None]) -> dict[str, tuple[float, tuple[str, ...]]]:
    from edgekit.measure.mcu_run import McuRunOptions, result_record, run_model
    from edgekit.measure.mcu_tools import board_code_version, mcu_tool_versions

    want = mcu_config(kernels)
    code = board_code_version(kernels)
    col = "instructions_per_inference" if profile.timing == "qemu-icount" else "cycles_per_inference"
    runs = store.runs()
    out = {}
    tools = None
    for k, item in enumerate(items, 1):
        progress(k - 1, len(items))
        sha = sha256_file(item.path)
        prior = runs[(runs["artifact_sha256"] == sha) & (runs["device_id"] == profile.id)] if not runs.empty else runs
        hit = [r for _, r in prior.iterrows() if {k: json.loads(r["config"]).get(k) for k in want} == want
               and json.loads(r["tool_versions"]).get("board-code") == code]
        if hit:
            out[item.name] = (float(hit[-1][col]), (str(hit[-1]["run_key"]),))
            continue
        tools = tools or mcu_tool_versions(profile.emulated, kernels)
        result = run_model(item.path, profile, McuRunOptions(count=1, kernels=kernels), work_dir=work)
        record = result_record(result, profile, tools)
        store.append(record)
        out[item.name] = (float(result.count_per_inference), (record.identity["run_key"],))
    progress(len(items), len(items))
    return out


def measure_items(items: list[ModelItem], profile: DeviceProfile, store: TraceStore, lut_root: Path,
                  linux_options: Any = None, sessions: int = 3, kernels: str = "portable",
                  trust_on_first_use: bool = False,
                  on_progress: Callable[[int, int], None] | None = None) -> list[WholeModel]:
    """Measure (or reuse measurements of) whole models; returns them with their figures."""
    progress = on_progress or (lambda k, n: None)
    if profile.kind == "mcu":
        figs = _mcu_measure(items, profile, store, lut_root / profile.id / "mcu-work-whole", kernels, progress)
    else:
        figs = _linux_measure(items, profile, linux_options, store, sessions, trust_on_first_use, progress)
    return [WholeModel(i.name, read_tflite(i.path), figs[i.name][0], figs[i.name][1], i.source) for i in items]
