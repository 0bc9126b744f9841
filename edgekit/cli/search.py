"""`edgekit search --device ID --latency-ms MS [--ram-kb KB] [--flash-kb KB] --data har ...`:
one constrained, hardware-in-the-loop architecture search; the winner is exported as int8 TFLite,
a C library and a firmware image.

On emulated boards (QEMU) the latency is an emulated instruction count; ``--latency-ms`` is
compared with instructions / the profile's clock_hz, reported as ``latency_ms_icount_derived``.
Rerun the same command to continue an interrupted search (``--out`` holds its state).
JSON (``--json``): the search's result.json (targets, winner with measured figures and files,
every measured candidate, search cost).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from edgekit.cli.base import Command, print_json


def _arg_type(field: dataclasses.Field) -> Any:  # type: ignore[type-arg]
    text = str(field.type)
    if "Path" in text:
        return Path
    if "float" in text:
        return float
    if "int" in text:
        return int
    return str


class SearchCommand(Command):
    name = "search"
    help = "hardware-aware architecture search under latency/RAM/flash targets, measured on the device"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from edgekit.nas.options import SearchOptions

        for f in dataclasses.fields(SearchOptions):
            md = f.metadata
            kwargs: dict[str, Any] = {"dest": f.name, "help": md["help"]}
            if f.default is dataclasses.MISSING:
                kwargs["required"] = True
            else:
                kwargs["default"] = f.default
            if "bool" in str(f.type):
                kwargs["action"] = "store_true"
            else:
                kwargs["type"] = _arg_type(f)
                if md.get("metavar"):
                    kwargs["metavar"] = md["metavar"]
                if md.get("choices"):
                    kwargs["choices"] = md["choices"]
            parser.add_argument(md["flag"], **kwargs)
        parser.add_argument("--json", action="store_true", help="print result.json instead of the summary")
        parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.nas.options import SearchOptions
        from edgekit.nas.run import run_search

        values = {f.name: getattr(args, f.name) for f in dataclasses.fields(SearchOptions)}
        options = SearchOptions(**values)
        started = time.monotonic()

        def progress(message: str) -> None:
            if not args.quiet:
                sys.stderr.write(f"[{time.monotonic() - started:7.1f} s] {message}\n")
                sys.stderr.flush()

        result = run_search(options, progress=progress)
        if args.json:
            print_json(result.result)
        else:
            _summary(result.result)
        return 0


def _summary(result: dict[str, Any]) -> None:
    w, t = result["winner"], result["targets"]
    col = result["latency_column"]
    out = sys.stdout
    out.write(f"winner on {result['device']}: {w['arch']}\n")
    out.write(f"  {col:<28} {w['latency_ms']:.3f}  (target {t['latency_ms']:g}, {w['latency_vs_target_pct']:+.2f} %)\n")
    if w.get("instructions_per_inference") is not None:
        out.write(f"  {'instructions / inference':<28} {w['instructions_per_inference']:,}  (emulated, not cycles)\n")
    out.write(f"  {'RAM bytes':<28} {w['ram_bytes']:,}  (limit {t['ram_bytes']:,})\n")
    out.write(f"  {'flash bytes':<28} {w['flash_bytes']:,}  (limit {t['flash_bytes']:,})\n")
    out.write(f"  {'int8 accuracy val / test':<28} {w['int8_val_acc']:.4f} / {w['int8_test_acc']:.4f}\n")
    c = result["cost"]
    out.write(f"search: {c['device_measurements']} device measurements, {c['subnets_scored']} sub-networks scored, "
              f"{c['wall_s']:.0f} s\n")
    for name, path in w["files"].items():
        out.write(f"  {name:<10} {path}\n")
    out.write(f"report: {result['files']['report']}  plot: {result['files'].get('plot', '')}\n")
