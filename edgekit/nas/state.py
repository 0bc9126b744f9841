"""The search directory: everything a search computes, written so that an interrupted search rerun
with the same command continues where it stopped and ends with the same result.

Layout::

    config.json            what decides the result (device, data, targets, space, seed, budgets)
    supernet/epoch-N.pt    supernet checkpoint after each epoch (the last one is kept)
    supernet/scores.json   sub-network accuracy estimates, by architecture key
    candidates/<key>/      arch.json, weights.pt, model.py, tflite/, prepared.json (trained + int8)
                           mcu/ (C library, firmware), measured.json (the device's figures)
    accuracy_noise.json    validation accuracy of the round-0 architecture retrained with several seeds
    rounds/round-N.json    what each round proposed and chose
    traces/                the trace store of the device measurements (unless --traces)
    explored.csv, pareto.csv, pareto.png, report.md, result.json, elapsed.json, winner/

Every file is written atomically (temp file + rename) and the expensive steps are keyed by their
inputs, so a rerun recomputes only what was not finished; all randomness is derived from the seed
and the step, never from how far a previous process got.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgekit.core.artifact import atomic_write_text
from edgekit.core.errors import InputFileError, UsageError
from edgekit.nas.measure import Measurement

STATE_VERSION = 1


class SearchDir:
    def __init__(self, root: Path, config: dict[str, Any]) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise UsageError(f"--out {self.root} is a file", "give a directory for the search")
        self.root.mkdir(parents=True, exist_ok=True)
        # through JSON, so that tuples compare equal to the lists read back
        want = json.loads(json.dumps({"state_version": STATE_VERSION, **config}, sort_keys=True, default=str))
        path = self.root / "config.json"
        if path.is_file():
            have = self._read_json(path)
            diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
            if diff:
                raise UsageError(f"{self.root} holds another search (different {', '.join(diff)})",
                                 "use a new --out directory, or repeat the original options to continue it")
        else:
            atomic_write_text(path, json.dumps(want, indent=1, sort_keys=True) + "\n")
        self.config = want

    @staticmethod
    def _read_json(path: Path) -> Any:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise InputFileError(f"{path} is unreadable ({e})", "delete that file; the search recomputes it") from None

    # -- locations ----------------------------------------------------------------------------
    @property
    def supernet_dir(self) -> Path:
        d = self.root / "supernet"
        d.mkdir(exist_ok=True)
        return d

    def candidate_dir(self, key: str) -> Path:
        return self.root / "candidates" / key

    @property
    def winner_dir(self) -> Path:
        return self.root / "winner"

    # -- supernet scores ----------------------------------------------------------------------
    def load_scores(self, space: Any) -> tuple[dict[str, float], dict[str, Any]]:
        """(accuracy by key, architecture by key) of every scored sub-network."""
        from edgekit.nas.materialize import arch_from_json

        path = self.supernet_dir / "scores.json"
        if not path.is_file():
            return {}, {}
        raw = self._read_json(path)
        return ({str(k): float(v["acc"]) for k, v in raw.items()},
                {str(k): arch_from_json(space, v["arch"]) for k, v in raw.items()})

    def save_scores(self, scores: dict[str, float], archs: dict[str, Any]) -> None:
        data = {k: {"acc": scores[k], "arch": archs[k].to_json()} for k in sorted(scores)}
        atomic_write_text(self.supernet_dir / "scores.json", json.dumps(data) + "\n")

    # -- measurements ---------------------------------------------------------------------------
    def measurement(self, key: str) -> Measurement | None:
        path = self.candidate_dir(key) / "measured.json"
        return Measurement.from_json(self._read_json(path)) if path.is_file() else None

    def save_measurement(self, key: str, m: Measurement) -> None:
        atomic_write_text(self.candidate_dir(key) / "measured.json", json.dumps(m.to_json(), indent=1) + "\n")

    def save_round(self, index: int, data: dict[str, Any]) -> None:
        atomic_write_text(self.root / "rounds" / f"round-{index}.json", json.dumps(data, indent=1) + "\n")

    def save_json(self, name: str, data: Any) -> Path:
        path = self.root / name
        atomic_write_text(path, json.dumps(data, indent=1, default=str) + "\n")
        return path
