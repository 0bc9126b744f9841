"""`run_search(options)`: one constrained search, from the data to the exported winner.

Stages: device profile, data and space -> search directory (resume) -> supernet (sandwich rule,
checkpointed per epoch) -> hardware-in-the-loop rounds (edgekit.nas.hil) -> the winner, decided
on measured figures -> explored set, Pareto front, plot, report, winner artifacts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekit.core.errors import ResourceLimitError, UsageError
from edgekit.nas.options import SearchOptions
from edgekit.nas.strategies.base import Targets

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SearchResult:
    directory: Path
    result: dict[str, Any]          # what result.json holds
    records: tuple[Any, ...]

    @property
    def winner(self) -> dict[str, Any] | None:
        return self.result.get("winner")


def make_space(preset: str, source: Any) -> Any:
    if preset == "nb201":
        from edgekit.nas.nb201 import NB201Space
        return NB201Space.for_data(source)
    from edgekit.nas.space import preset_space
    res = (source.native_resolution,) if source.fixed_resolution else None
    return preset_space(preset, source.dims, source.in_channels, source.num_classes, source.native_resolution, res)


def make_supernet(space: Any, seed: int) -> Any:
    if space.kind == "nb201":
        from edgekit.nas.nb201_net import NB201SuperNet
        return NB201SuperNet(space, seed)
    from edgekit.nas.supernet import SuperNet
    return SuperNet(space, seed)


def _targets(options: SearchOptions, profile: Any) -> Targets:
    ram = int(options.ram_kb * 1024) if options.ram_kb is not None else profile.ram_bytes
    flash = int(options.flash_kb * 1024) if options.flash_kb is not None else profile.flash_bytes
    return Targets(float(options.latency_ms), ram, flash)


def supernet_checkpoints(options: SearchOptions, space: Any, sdir: Any) -> Path:
    """Where the supernet's checkpoints live: the search directory, or a shared folder keyed by
    everything that decides the supernet's weights."""
    if options.supernet_dir is None:
        return sdir.supernet_dir
    from edgekit.core.artifact import atomic_write_text, sha256_bytes

    spec = {"data": options.data, "space": space.to_json(), "seed": options.seed,
            "epochs": options.supernet_epochs, "max_train_samples": options.max_train_samples}
    blob = json.dumps(spec, sort_keys=True)
    d = Path(options.supernet_dir) / f"{space.name}-{sha256_bytes(blob.encode())[:12]}"
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "supernet.json").is_file():
        atomic_write_text(d / "supernet.json", json.dumps(spec, indent=1, sort_keys=True) + "\n")
    return d


def run_search(options: SearchOptions, progress: Progress | None = None, measurer: Any = None) -> SearchResult:
    from edgekit.core.profile import load_profile
    from edgekit.nas.data import open_data
    from edgekit.nas.hil import HilLoop, choose_winner
    from edgekit.nas.measure import measurer_for
    from edgekit.nas.scale import make_executor
    from edgekit.nas.state import SearchDir
    from edgekit.nas.strategies import make_strategy
    from edgekit.nas.train import SubnetScorer, TrainOptions, train_supernet

    say = progress or (lambda _m: None)
    started = time.monotonic()
    profile = load_profile(options.device)
    targets = _targets(options, profile)
    if measurer is None:
        measurer = measurer_for(profile, options.traces or Path(options.out) / "traces")
    executor = make_executor(options.ray, options.ray_address)
    try:   # a local Ray cluster brought up for this search is stopped however it ends
        strategy = make_strategy(options.strategy, options.population, options.generations, options.surrogate,
                                 options.dnas_steps)
        source = open_data(options.data)
        space = make_space(options.space, source)
        if options.strategy == "differentiable" and space.kind != "mcu-ir":
            raise UsageError(f"the differentiable strategy searches mcu-ir spaces, not {space.kind}",
                             "use --strategy evolution with --space nb201")
        sdir = SearchDir(options.out, {**options.result_config(), "space_spec": space.to_json(),
                                       "profile_clock_hz": profile.clock_hz, "profile_timing": profile.timing})

        supernet = make_supernet(space, options.seed)
        ckpt_dir = supernet_checkpoints(options, space, sdir)
        say(f"supernet: {options.supernet_epochs} epochs (sandwich rule), checkpoints in {ckpt_dir}")
        train_supernet(supernet, source, TrainOptions(epochs=options.supernet_epochs,
                                                      max_train_samples=options.max_train_samples),
                       options.seed, ckpt_dir, progress=say)
        scores, archs = sdir.load_scores(space)
        scorer = SubnetScorer(supernet, source, scores, archs, max_train_samples=options.max_train_samples)
        loop = HilLoop(sdir, space, options, measurer, executor, scorer, supernet, source, targets, strategy,
                       progress=say)
        error: ResourceLimitError | None = None
        winner = None
        try:
            loop.run()
            winner = choose_winner(loop.records, targets, loop.noise.get("std", 0.0))
        except ResourceLimitError as e:
            error = e
    finally:
        executor.close()
    sdir.save_scores(scorer.cache, scorer.archs)
    result = _write_outputs(sdir, space, options, profile, targets, loop, scorer, winner, error, started)
    if error is not None:
        raise error
    say(f"winner: {winner.arch.label()} -> {sdir.winner_dir}")
    return SearchResult(sdir.root, result, tuple(loop.records))


def _write_outputs(sdir: Any, space: Any, options: SearchOptions, profile: Any, targets: Targets, loop: Any,
                   scorer: Any, winner: Any, error: Exception | None, started: float) -> dict[str, Any]:
    from edgekit.nas import report
    from edgekit.nas.hil import tolerance

    records = loop.records
    predictor = loop.predictor
    resources = None
    if records:
        _, resources = loop.fit()
        predictor = loop.predictor
    arch_of = dict(scorer.archs)
    arch_of.update({r.key: r.arch for r in records})
    scores = dict(scorer.cache)
    for r in records:
        if r.key not in scores:
            scores[r.key] = scorer.score(r.arch)
    paths = report.write_tables(sdir.root, space, scores, records, predictor, resources, targets, arch_of)
    prev = sdir.root / "elapsed.json"
    elapsed_before = json.loads(prev.read_text())["wall_s"] if prev.is_file() else 0.0
    wall = elapsed_before + (time.monotonic() - started)
    sdir.save_json("elapsed.json", {"wall_s": wall})
    lat_col = report.latency_column(records)
    result: dict[str, Any] = {
        "device": profile.id, "emulated": profile.emulated, "method": records[0].measurement.method if records else "",
        "latency_column": lat_col, "data": options.data, "space": space.name, "strategy": options.strategy,
        "seed": options.seed, "targets": {"latency_ms": targets.latency_ms, "ram_bytes": targets.ram_bytes,
                                          "flash_bytes": targets.flash_bytes},
        "predictor": predictor.describe() if predictor else {},
        "cost": {"wall_s": wall, "device_measurements": len(records), "candidates_trained": len(records),
                 "supernet_epochs": options.supernet_epochs, "subnets_scored": len(scorer.cache)},
        "accuracy_noise": {**loop.noise, "tolerance": (tolerance([r for r in records if r.feasible(targets)] or records,
                                                                 loop.noise.get("std", 0.0)) if records else None)},
        "measured": [_record_json(r, targets) for r in records],
        "files": {k: str(v) for k, v in paths.items()},
    }
    if winner is not None:
        files = report.export_winner(sdir.winner_dir, winner, sdir.candidate_dir(winner.key))
        result["winner"] = {**_record_json(winner, targets), "files": files}
    if error is not None:
        result["error"] = error.message
    title = f"{options.data} on {profile.id}: target {targets.latency_ms:g} ms ({options.strategy})"
    if records:
        result["files"]["plot"] = str(report.plot(sdir.root / "pareto.png", scores, records, predictor, targets,
                                                  winner, arch_of, title))
    result["files"]["report"] = str(sdir.root / "report.md")
    from edgekit.core.artifact import atomic_write_text
    atomic_write_text(sdir.root / "report.md", report.report_markdown(result))
    sdir.save_json("result.json", result)
    return result


def _record_json(r: Any, t: Targets) -> dict[str, Any]:
    m = r.measurement
    return {
        "key": r.key, "arch": r.arch.label(), "round": r.round, "why": r.why,
        "latency_ms": m.latency_ms, "latency_kind": m.latency_kind, "method": m.method,
        "latency_vs_target_pct": (m.latency_ms / t.latency_ms - 1.0) * 100.0,
        "instructions_per_inference": m.count_per_inference if m.method == "qemu-icount" else None,
        "instructions_max": m.count_max if m.method == "qemu-icount" else None,
        "ram_bytes": m.ram_bytes, "flash_bytes": m.flash_bytes, "arena_bytes": m.arena_bytes,
        "stack_bytes_peak": m.stack_bytes_peak, "bit_exact": m.bit_exact, "trace_run_key": m.trace_run_key,
        "int8_val_acc": r.acc, "int8_test_acc": r.prepared["int8_test_acc"],
        "float_val_acc": r.prepared["float_val_acc"], "feasible": r.feasible(t),
        "predicted_latency_ms": r.predicted.latency_ms if r.predicted else None,
        "supernet_val_acc": r.predicted.acc if r.predicted else None,
    }
