"""`edgekit inspect MODEL.tflite [--json]`: the operator table of a TFLite model and its totals."""

from __future__ import annotations

import argparse
import sys

from edgekit.cli.base import Command, print_json


def _shape(shapes: tuple[tuple[int, ...], ...]) -> str:
    return " ".join("[" + ",".join(str(d) for d in s) + "]" for s in shapes)


class InspectCommand(Command):
    name = "inspect"
    help = "show the operators, output shapes, MACs and memory totals of a .tflite model"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("model", metavar="MODEL.tflite", help="TFLite flatbuffer to read")
        parser.add_argument("--json", action="store_true", help="print machine-readable JSON")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.tflite.reader import dynamic_dims, read_tflite
        from edgekit.tflite.stats import model_stats

        graph = read_tflite(args.model)
        stats = model_stats(graph)
        dynamic = dynamic_dims(graph)
        if args.json:
            doc = stats.to_json()
            doc["sha256"] = graph.sha256
            doc["dynamic_tensors"] = {str(i): list(s) for i, s in dynamic.items()}
            print_json(doc)
            return 0
        out = sys.stdout
        rows = [(str(r.index), r.opcode, _shape(r.output_shapes),
                 "?" if r.macs is None else f"{r.macs:,}", f"{r.weight_bytes:,}") for r in stats.ops]
        header = ("#", "op", "output shape", "MACs", "weight bytes")
        widths = [max(len(h), *(len(row[k]) for row in rows)) if rows else len(h)
                  for k, h in enumerate(header)]
        right = (True, False, False, True, True)

        def line(cells: tuple[str, ...]) -> str:
            padded = (c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right))
            return "  ".join(padded).rstrip()

        out.write(f"{graph.name}  sha256 {graph.sha256[:16]}  {len(graph.operators)} ops, "
                  f"{len(graph.tensors)} tensors\n")
        out.write(line(header) + "\n")
        for row in rows:
            out.write(line(row) + "\n")
        macs = f"{stats.total_macs:,}"
        if stats.macs_unknown:
            macs += f" (+ {len(stats.macs_unknown)} op(s) whose MACs are not modelled: " \
                    f"{', '.join(str(i) for i in stats.macs_unknown)})"
        out.write(f"total MACs: {macs}\n")
        out.write(f"parameter bytes: {stats.parameter_bytes:,}\n")
        out.write(f"largest activation bytes: {stats.largest_activation_bytes:,}\n")
        if stats.state_bytes:
            out.write(f"state bytes: {stats.state_bytes:,}\n")
        by_count = sorted(stats.op_histogram.items(), key=lambda kv: -kv[1])
        histogram = ", ".join(f"{k} x{v}" for k, v in by_count)
        out.write(f"ops: {histogram}\n")
        if dynamic:
            out.write(f"dynamic (-1) dimensions in {len(dynamic)} tensors' shape signatures; "
                      "figures above use the stored shapes\n")
        return 0
