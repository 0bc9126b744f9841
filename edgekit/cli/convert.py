"""`edgekit convert MODEL -o OUTDIR`: float32 + int8 TFLite and a fidelity report.

The arguments are derived from edgekit.convert.options.ConvertOptions (flag, help, metavar and
choices live in each field's metadata), so the library and the command line cannot disagree.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path
from typing import Any

from edgekit.cli.base import Command, print_json, warn
from edgekit.convert.options import ConvertOptions, parse_shape


def _argument_kwargs(f: Any) -> dict[str, Any]:
    md = f.metadata
    kwargs: dict[str, Any] = {"help": md["help"], "dest": f.name}
    if md.get("metavar"):
        kwargs["metavar"] = md["metavar"]
    if md.get("choices"):
        kwargs["choices"] = md["choices"]
    kind = str(f.type)
    if kind.startswith("tuple[tuple[int"):
        kwargs.update(type=parse_shape, action="append", default=[])
    elif kind.startswith("Path"):
        kwargs.update(type=Path, default=f.default)
    elif kind == "int":
        kwargs.update(type=int, default=f.default)
    elif kind == "bool":
        kwargs.update(action="store_true", default=f.default)
    else:
        kwargs.update(type=str, default=f.default)
    return kwargs


def _human_bytes(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.2f} MiB"


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def format_summary(report: dict[str, Any]) -> str:
    """The compact table printed after an int8 conversion (the JSON holds everything)."""
    fid, stats = report["fidelity"], report["int8_stats"]
    lines = [f"fidelity float32 vs int8 on {report['held_out']['samples']} held-out samples "
             f"({report['held_out']['source']}); calibrated on {report['calibration']['samples']} samples "
             f"({report['calibration']['source']})",
             f"  {'output':<20} {'top-1 agree':>11} {'max |err|':>10} {'mean |err|':>10} {'SQNR dB':>8}"]
    for k, o in enumerate(fid["outputs"]):
        top1 = "-" if o["top1_agreement"] is None else f"{100 * o['top1_agreement']:.1f} %"
        label = f"{k} ({', '.join(map(str, o['shape']))})"
        lines.append(f"  {label:<20} {top1:>11} {o['max_abs_error']:>10.4g} "
                     f"{o['mean_abs_error']:>10.4g} {_fmt(o['sqnr_db'], '.1f'):>8}")
    if fid["worst_layers"]:
        lines.append("  layers losing most SQNR: " + "; ".join(
            f"op {x['index']} {x['opcode']} -{x['sqnr_drop_db']:.1f} dB (to {_fmt(x['sqnr_db'], '.1f')} dB)"
            for x in fid["worst_layers"]))
    hist = ", ".join(f"{op} x{k}" for op, k in sorted(stats["op_histogram"].items(), key=lambda kv: (-kv[1], kv[0])))
    lines.append(f"  int8 model: {sum(stats['op_histogram'].values())} ops ({hist})")
    lines.append(f"  {stats['total_macs']:,} MACs, parameters {_human_bytes(stats['parameter_bytes'])} "
                 f"(float32 {_human_bytes(report['float32_parameter_bytes'])}), "
                 f"largest activation {_human_bytes(stats['largest_activation_bytes'])}")
    return "\n".join(lines)


class ConvertCommand(Command):
    name = "convert"
    help = "convert a network (PyTorch, ONNX, Keras, TFLite) to float32 and full-int8 TFLite with a fidelity report"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        for f in fields(ConvertOptions):
            flag = f.metadata.get("flag")
            if flag is None:
                continue
            kwargs = _argument_kwargs(f)
            if not flag.startswith("-"):
                kwargs.pop("dest")
                kwargs.pop("default", None)
                parser.add_argument(f.name, **kwargs)
            elif len(flag) == 2:
                parser.add_argument(flag, "--" + f.name.replace("_", "-"), **kwargs)
            else:
                parser.add_argument(flag, **kwargs)
        parser.add_argument("--json", action="store_true", help="print the fidelity report as JSON instead of a table")
        # Also accepted after the subcommand; SUPPRESS keeps a top-level `edgekit --debug convert` intact.
        parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                            help="show the converters' output and full tracebacks")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.convert import convert

        values = {f.name: getattr(args, f.name) for f in fields(ConvertOptions) if f.metadata.get("flag")}
        values["input_shapes"] = tuple(values["input_shapes"])
        options = ConvertOptions(**values, verbose=bool(getattr(args, "debug", False)))
        result = convert(options)
        for message in result.warnings:
            warn(message)
        if args.json:
            print_json(result.report_data or {"written": [str(a.path) for a in (result.float_model, result.int8_model)
                                                             if a is not None]})
            return 0
        written = [a for a in (result.float_model, result.int8_model, result.report) if a is not None]
        print("wrote " + ", ".join(f"{a.path} ({_human_bytes(a.path.stat().st_size)})" for a in written))
        if result.report_data is not None:
            print(format_summary(result.report_data))
        return 0
