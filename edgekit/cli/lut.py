"""`edgekit lut build | show | export --device ID`: the device's latency lookup table.

build   measure operator/block configurations on the device (space-filling start, then adaptive
        refinement) within a time budget; resumable: a rerun continues where it stopped
show    the table by operator signature (what was measured, how, how often)
export  the per-signature table (or every raw row with --raw) as CSV or parquet
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from edgekit.cli.base import Command, Group, print_json
from edgekit.core.errors import UsageError

LINUX_REPEATS, LINUX_WARMUP, LINUX_MIN_SECONDS = 20, 5, 0.1


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    from edgekit.lut.table import default_lut_root

    parser.add_argument("--device", required=True, help="device id (device_profiles/<id>.toml) or a .toml path")
    parser.add_argument("--lut", type=Path, default=None,
                        help=f"LUT directory (default {default_lut_root()}, or $EDGEKIT_LUT)")
    parser.add_argument("--profiles", type=Path, default=None, metavar="DIR", help="device profile directory")


def add_measure_arguments(parser: argparse.ArgumentParser) -> None:
    """How a Linux device is measured (the LUT and the whole models share them) and MCU kernels."""
    from edgekit.core.trace import default_store_dir

    parser.add_argument("--traces", type=Path, default=None,
                        help=f"trace store for the measurements (default {default_store_dir()}, or $EDGEKIT_TRACES)")
    parser.add_argument("--repeats", type=int, default=LINUX_REPEATS, help="Linux: timed inferences per session")
    parser.add_argument("--warmup", type=int, default=LINUX_WARMUP, help="Linux: untimed inferences first")
    parser.add_argument("--min-seconds", type=float, default=LINUX_MIN_SECONDS,
                        help="Linux: time each model at least this long (tiny operators need many repeats)")
    parser.add_argument("--xnnpack", action=argparse.BooleanOptionalAction, default=True,
                        help="Linux: LiteRT's XNNPACK delegate (default on, as `edgekit profile`)")
    parser.add_argument("--kernels", default="portable", help="MCU: generated kernels (portable | cmsis-nn)")
    parser.add_argument("--trust-on-first-use", action="store_true", help="SSH: accept an unknown host key once")


def linux_options(args: argparse.Namespace) -> Any:
    from edgekit.measure.options import ProfileOptions

    return ProfileOptions(repeats=args.repeats, warmup=args.warmup, min_seconds=args.min_seconds, xnnpack=args.xnnpack)


def open_backend(profile: Any, args: argparse.Namespace, root: Path, store: Any) -> Any:
    import os

    from edgekit.lut.measure import LinuxBackend, McuBackend

    if profile.kind == "mcu":
        return McuBackend(profile, root, store, args.kernels, os.environ.get("CMSIS_NN_PATH"))
    if profile.kind in ("linux", "android"):
        return LinuxBackend.connect(profile, linux_options(args), root, store, args.trust_on_first_use)
    raise UsageError(f"device {profile.id} is of kind {profile.kind}, which the LUT cannot measure")


class LutBuildCommand(Command):
    name = "build"
    help = "measure the device's lookup table (resumable, within a time budget)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from edgekit.lut.build import BuildOptions

        d = BuildOptions()
        add_device_arguments(parser)
        add_measure_arguments(parser)
        parser.add_argument("--budget", type=float, default=d.budget_s, help="seconds of measuring (%(default)s)")
        parser.add_argument("--start", type=int, default=None,
                            help="configurations of the space-filling start (default: 500 MCU, 240 Linux)")
        parser.add_argument("--arch-archs", type=int, default=None,
                            help="sampled search-space architectures whose operators are measured too "
                                 "(default: 80 MCU, 40 Linux; 0: none)")
        parser.add_argument("--families", default="", help="comma-separated families (default: all)")
        parser.add_argument("--no-zoo", action="store_true",
                            help="do not measure the operators of the MLPerf Tiny reference models")
        parser.add_argument("--rounds", type=int, default=d.max_rounds, help="at most this many refinement rounds")
        parser.add_argument("--seed", type=int, default=d.seed, help="Sobol scrambling and refinement seed")
        parser.add_argument("--json", action="store_true", help="print the build report as JSON")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.core.profile import load_profile
        from edgekit.core.trace import TraceStore
        from edgekit.lut.build import BuildOptions, build_lut
        from edgekit.lut.table import LutTable, default_lut_root

        profile = load_profile(args.device, args.profiles)
        root = args.lut or default_lut_root()
        families = tuple(f for f in args.families.split(",") if f)
        options = BuildOptions(budget_s=args.budget, start=args.start, arch_archs=args.arch_archs, families=families,
                               max_rounds=args.rounds, seed=args.seed, zoo=not args.no_zoo)
        store = TraceStore(args.traces or root / profile.id / "traces")
        table = LutTable(root, profile.id)
        backend = open_backend(profile, args, root, store)

        def progress(stage: str, k: int, n: int) -> None:
            if not args.json:
                sys.stderr.write(f"lut {profile.id}: {stage} {k}/{n}\n")

        try:
            report = build_lut(backend, table, profile.kind, options, progress)
        finally:
            backend.close()
        rows = table.rows()
        out = {"device": profile.id, "emulated": profile.emulated, "method": profile.timing, **vars(report),
               "rows": int(len(rows)), "signatures": int(rows["sig_key"].nunique()) if len(rows) else 0,
               "lut": str(table.dir)}
        if args.json:
            print_json(out)
        else:
            print(f"{profile.id} ({'emulated, ' if profile.emulated else ''}{profile.timing}): measured {report.measured} "
                  f"variants in {report.elapsed_s:.0f} s ({report.skipped} already in the table), "
                  f"{report.rounds} refinement rounds{' (budget reached)' if report.stopped_by_budget else ''}; "
                  f"{out['rows']} rows, {out['signatures']} signatures in {table.dir}")
        return 0


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


class LutShowCommand(Command):
    name = "show"
    help = "the device's lookup table by operator signature"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_device_arguments(parser)
        parser.add_argument("--kernel-type", default=None, help="only this kernel type (conv, dwconv, fc ...)")
        parser.add_argument("--limit", type=int, default=20, help="rows per kernel type (%(default)s)")
        parser.add_argument("--json", action="store_true")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.core.profile import load_profile
        from edgekit.lut.table import LutTable, default_lut_root

        profile = load_profile(args.device, args.profiles)
        table = LutTable(args.lut or default_lut_root(), profile.id)
        col = table.value_column()
        summary = table.summary()
        if args.kernel_type:
            summary = summary[summary["kernel_type"] == args.kernel_type]
        if args.json:
            print_json([{k: _clean(v) for k, v in r.items()} for r in summary.to_dict(orient="records")])
            return 0
        rows = table.rows()
        unit = {"instructions": "emulated instructions", "cycles": "cycles"}.get(col, "ms (wall-clock p50)")
        print(f"LUT of {profile.id}: {len(rows)} rows, {len(summary)} operator signatures, figures in {unit}, "
              f"method {rows['method'].iloc[0]}{', emulated' if bool(rows['emulated'].iloc[0]) else ''}")
        for ktype, g in summary.groupby("kernel_type"):
            print(f"\n{ktype}: {len(g)} signatures")
            for _, r in g.head(args.limit).iterrows():
                sig = json.loads(r["signature"])
                brief = {k: v for k, v in sig.items() if k in ("in", "out", "k", "s", "pad", "act")}
                print(f"  {r['sig_key']}  {r[f'{col}_median']:>14.6g}  n={r['samples']:<3} {json.dumps(brief)}")
        return 0


class LutExportCommand(Command):
    name = "export"
    help = "write the lookup table as CSV or parquet"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_device_arguments(parser)
        parser.add_argument("output", type=Path, help="file to write (.csv or .parquet)")
        parser.add_argument("--raw", action="store_true", help="every measured row with its provenance")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.core.profile import load_profile
        from edgekit.lut.table import LutTable, default_lut_root

        profile = load_profile(args.device, args.profiles)
        table = LutTable(args.lut or default_lut_root(), profile.id)
        table.value_column()   # refuses an empty table with a hint
        df = table.rows() if args.raw else table.summary()
        suffix = args.output.suffix.lower()
        if suffix == ".csv":
            df.to_csv(args.output, index=False)
        elif suffix == ".parquet":
            df.to_parquet(args.output, index=False)
        else:
            raise UsageError(f"unknown export format {suffix or '(none)'}", "name the file .csv or .parquet")
        print(f"wrote {len(df)} rows to {args.output}")
        return 0


class LutCommand(Group):
    name = "lut"
    help = "per-device latency lookup tables: build, show, export"
    children = (LutBuildCommand, LutShowCommand, LutExportCommand)
