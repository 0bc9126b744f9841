"""`edgekit codegen MODEL -o OUT`: interpreter-free C library (portable or CMSIS-NN kernels)."""

from __future__ import annotations

import argparse
from pathlib import Path

from edgekit.cli.base import Command, print_json


class CodegenCommand(Command):
    name = "codegen"
    help = "generate a self-contained C library (no interpreter, no malloc) from an int8 .tflite"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        from edgekit.codegen.generate import CPU_FAMILIES

        parser.add_argument("model", type=Path, help="int8 .tflite model")
        parser.add_argument("-o", "--out", type=Path, help="output directory (created)")
        parser.add_argument("--name", help="C prefix of the generated API (default: the model file name)")
        parser.add_argument("--cpu", default="any", choices=sorted(CPU_FAMILIES),
                            help="core whose CMSIS-NN scratch needs the arena must cover (default: any)")
        parser.add_argument("--no-inplace", action="store_true",
                            help="never let a layer overwrite its input (larger arena)")
        parser.add_argument("--report", action="store_true", help="print the memory and compute report")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.codegen.emit import write_library
        from edgekit.codegen.generate import CodegenOptions, generate
        from edgekit.codegen.report import format_report, memory_report
        from edgekit.core.errors import UsageError
        from edgekit.tflite.reader import read_tflite

        if args.out is None and not (args.report or args.json):
            raise UsageError("nothing to do: give -o OUT_DIR and/or --report/--json")
        graph = read_tflite(args.model)
        gen = generate(graph, CodegenOptions(name=args.name, cpu=args.cpu, inplace=not args.no_inplace),
                       args.model.name)
        if args.out is not None:
            if args.out.exists() and not args.out.is_dir():
                raise UsageError(f"{args.out} exists and is not a directory")
            write_library(gen.rendered, args.out, gen.name)
        rep = memory_report(gen)
        if args.json:
            print_json(rep)
        elif args.report:
            print(format_report(rep))
        if args.out is not None and not args.json:
            print(f"wrote {args.out}/{gen.name}.h, {gen.name}.c and {len(gen.rendered) - 2} more files "
                  f"(arena {rep['arena_bytes']:,} bytes, weights {rep['weights_bytes']:,} bytes)")
        return 0
