"""`edgekit traces list | show KEY | export --csv FILE`: read the trace store."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from edgekit.cli.base import Command, Group, print_json
from edgekit.core.errors import UsageError
from edgekit.core.trace import IDENTITY, TraceStore, default_store_dir

# a figure is shown with its provenance: method for the latency, energy_source for the energy
_LIST_COLUMNS = ("run_key", "model_name", "device_id", "emulated", "method", "run_set", "latency_ms_p50",
                 "latency_cv", "energy_mj", "energy_source", "timestamp_utc")


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--traces", type=Path, default=None,
                   help=f"trace store directory (default {default_store_dir()}, or $EDGEKIT_TRACES)")


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def _records(df: Any) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in r.items()} for r in df.to_dict(orient="records")]


def _runs(args: argparse.Namespace) -> Any:
    store = TraceStore(args.traces)
    df = store.runs()
    if df.empty:
        raise UsageError(f"the trace store {store.root} holds no runs", "run `edgekit profile` first, or pass --traces")
    return store, df


class _List(Command):
    name = "list"
    help = "one line per recorded run"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _store_arg(parser)
        parser.add_argument("--device", default=None, help="only this device id")
        parser.add_argument("--model", default=None, help="only this model name")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def invoke(self, args: argparse.Namespace) -> int:
        _, df = _runs(args)
        if args.device:
            df = df[df["device_id"] == args.device]
        if args.model:
            df = df[df["model_name"] == args.model]
        # energy is never listed without its source, even for a store written without one
        cols = [c for c in _LIST_COLUMNS if c in df.columns or (c == "energy_source" and "energy_mj" in df.columns)]
        df = df.reindex(columns=cols)
        if args.json:
            print_json(_records(df))
            return 0
        from rich.console import Console
        from rich.table import Table

        t = Table(title=f"{len(df)} runs")
        for c in cols:
            t.add_column(c)
        for r in _records(df):
            t.add_row(*("-" if r[c] is None else f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]) for c in cols))
        Console(width=180).print(t)
        return 0


class _Show(Command):
    name = "show"
    help = "every column of one run (and its per-layer rows), by run key or a unique prefix of it"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("key", help="run key (a unique prefix is enough)")
        _store_arg(parser)
        parser.add_argument("--json", action="store_true", help="print JSON")

    def invoke(self, args: argparse.Namespace) -> int:
        store, df = _runs(args)
        hit = df[df["run_key"].str.startswith(args.key)]
        if len(hit) != 1:
            raise UsageError(f"{len(hit)} runs have a key starting with {args.key!r}",
                             "give a longer prefix (see `edgekit traces list`)")
        run = _records(hit)[0]
        layers_df = store.layers()
        layers = _records(layers_df[layers_df["run_key"] == run["run_key"]]) if not layers_df.empty else []
        if args.json:
            print_json({"run": run, "layers": layers})
            return 0
        for k, v in run.items():
            if v is not None:
                print(f"{k:32} {v}")
        if layers:
            print(f"\n{len(layers)} layers:")
            for layer in layers:
                print("  " + "  ".join(f"{k}={v}" for k, v in layer.items() if k != "run_key" and v is not None))
        return 0


class _Export(Command):
    name = "export"
    help = "write the runs (and optionally the layers) as CSV"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--csv", type=Path, required=True, metavar="FILE", help="runs CSV to write")
        parser.add_argument("--layers-csv", type=Path, default=None, metavar="FILE", help="per-layer CSV to write")
        _store_arg(parser)

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.core.artifact import atomic_write_text

        store, df = _runs(args)
        ordered = [c for c in IDENTITY if c in df.columns] + [c for c in df.columns if c not in IDENTITY]
        atomic_write_text(args.csv, df[ordered].to_csv(index=False))
        print(f"wrote {len(df)} runs to {args.csv}")
        if args.layers_csv:
            layers = store.layers()
            atomic_write_text(args.layers_csv, layers.to_csv(index=False))
            print(f"wrote {len(layers)} layer rows to {args.layers_csv}")
        return 0


class TracesCommand(Group):
    name = "traces"
    help = "the trace store: list, show, export"
    children = (_List, _Show, _Export)
