"""What a search is asked to do. Declared once; `edgekit search` derives its arguments from it.

Each field's ``metadata`` carries the flag and help text. Fields marked ``result=False`` do not
change the result (where traces go, how work is spread), so a search directory can be resumed
with different values for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from edgekit.core.errors import UsageError

SPACES = ("mcu-ir", "mcu-ir-tiny", "nb201")


def _opt(flag: str, help: str, metavar: str | None = None, choices: tuple[str, ...] | None = None,
         result: bool = True) -> dict:
    return {"flag": flag, "help": help, "metavar": metavar, "choices": choices, "result": result}


@dataclass(frozen=True)
class SearchOptions:
    device: str = field(metadata=_opt("--device", "device profile id or .toml path (an MCU board)", "ID"))
    latency_ms: float = field(metadata=_opt(
        "--latency-ms", "latency target; on emulated boards compared with the QEMU instruction count / "
        "the profile's clock (an icount-derived figure, not real time)", "MS"))
    data: str = field(default="har", metadata=_opt(
        "--data", "har | har:FOLDER | digits | FILE.npz (x_train, y_train, x_test, y_test [, x_val, y_val]; "
        "x as (N, T, C) windows or (N, H, W, C) square images)", "DATA"))
    ram_kb: float | None = field(default=None, metadata=_opt(
        "--ram-kb", "RAM limit in KiB (data + bss + stack of the firmware); default: the profile's", "KB"))
    flash_kb: float | None = field(default=None, metadata=_opt(
        "--flash-kb", "flash limit in KiB (text + rodata + data of the firmware); default: the profile's", "KB"))
    strategy: str = field(default="evolution", metadata=_opt(
        "--strategy", "evolution: pymoo NSGA-II with G <= 0 constraints; differentiable: LightNAS-style "
        "Lagrangian; random: baseline", choices=("evolution", "differentiable", "random")))
    space: str = field(default="mcu-ir", metadata=_opt(
        "--space", "mcu-ir: inverted residuals (kernel 3/5/7, expansion 1/3/6, depth, width, resolution); "
        "mcu-ir-tiny: a small one for demos and tests; nb201: NAS-Bench-201-style cells", choices=SPACES))
    out: Path = field(default=Path("edgekit-search"), metadata=_opt(
        "--out", "search directory (rerun the same command to continue an interrupted search)", "DIR"))
    seed: int = field(default=0, metadata=_opt("--seed", "seed of everything random (same seed, same result)", "N"))
    budget: int = field(default=12, metadata=_opt(
        "--budget", "device measurements (each: train from scratch, int8, firmware, run on the board)", "N"))
    per_round: int = field(default=3, metadata=_opt("--per-round", "candidates measured per round", "N"))
    supernet_epochs: int = field(default=20, metadata=_opt("--supernet-epochs", "supernet training epochs", "N"))
    candidate_epochs: int = field(default=15, metadata=_opt(
        "--candidate-epochs", "epochs of from-scratch training of each measured candidate", "N"))
    max_train_samples: int | None = field(default=None, metadata=_opt(
        "--max-train-samples", "train on a fixed subset of at most N samples (quick searches)", "N"))
    population: int = field(default=24, metadata=_opt("--population", "NSGA-II population", "N"))
    generations: int = field(default=12, metadata=_opt("--generations", "NSGA-II generations per round", "N"))
    surrogate: bool = field(default=False, metadata=_opt(
        "--surrogate", "NSGA-II: pre-screen offspring with a Pareto-rank surrogate (LightGBM)"))
    dnas_steps: int = field(default=150, metadata=_opt(
        "--dnas-steps", "differentiable strategy: architecture-parameter steps per round", "N"))
    supernet_dir: Path | None = field(default=None, metadata=_opt(
        "--supernet-dir", "share trained supernets between searches: a folder holding one checkpoint per "
        "(data, space, seed, supernet epochs, samples); default: inside --out", "DIR", result=False))
    traces: Path | None = field(default=None, metadata=_opt(
        "--traces", "trace store for the device measurements (default: DIR/traces)", "DIR", result=False))
    ray: bool = field(default=False, metadata=_opt(
        "--ray", "train and convert candidates as Ray tasks on this machine (needs edgekit[scale])", result=False))
    ray_address: str | None = field(default=None, metadata=_opt(
        "--ray-address", "Ray cluster to run candidate training on (implies --ray)", "ADDR", result=False))

    def __post_init__(self) -> None:
        if self.budget < 1:
            raise UsageError("--budget must be at least 1", "e.g. --budget 12")
        if self.per_round < 1:
            raise UsageError("--per-round must be at least 1")
        for name in ("supernet_epochs", "candidate_epochs", "population", "generations", "dnas_steps"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
        if self.population < 4:
            raise UsageError("--population must be at least 4")
        if self.max_train_samples is not None and self.max_train_samples < 16:
            raise UsageError("--max-train-samples must be at least 16")
        if self.space not in SPACES:
            raise UsageError(f"unknown space {self.space!r}", f"use one of: {', '.join(SPACES)}")

    def result_config(self) -> dict[str, Any]:
        """The fields that decide the result (compared when a search directory is resumed)."""
        out = {}
        for f in fields(self):
            if f.metadata.get("result", True) and f.name != "out":
                v = getattr(self, f.name)
                out[f.name] = str(v) if isinstance(v, Path) else v
        return out
