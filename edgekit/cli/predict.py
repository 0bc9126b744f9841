"""`edgekit predict MODEL --device ID`: latency (and RAM, flash, energy) of a model on a device,
from the device's trained predictor, without touching the device. Every figure is *modelled*;
on a microcontroller, RAM and flash come exactly from the code generator's memory plan."""

from __future__ import annotations

import argparse
from pathlib import Path

from edgekit.cli.base import Command, print_json
from edgekit.cli.lut import add_device_arguments


class PredictCommand(Command):
    name = "predict"
    help = "predict a model's latency on a device (modelled, with an interval) without measuring"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("model", help=".tflite model, or a network converted to int8 on the way")
        parser.add_argument("--input-shape", dest="input_shapes", action="append", default=[], metavar="SHAPE",
                            help="input shape for converting a network, batch first (repeatable)")
        add_device_arguments(parser)
        parser.add_argument("--predictor", type=Path, default=None, help="predictor directory (default <lut>/<device>/predictor)")
        parser.add_argument("--link", action="store_true",
                            help="MCU: also link the firmware (no run) for the exact total flash and RAM")
        parser.add_argument("--json", action="store_true")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.cli.profile import as_tflite, parse_shape
        from edgekit.core.profile import load_profile
        from edgekit.lut.table import default_lut_root
        from edgekit.predict.io import default_predictor_dir, load_predictor
        from edgekit.tflite.reader import read_tflite

        profile = load_profile(args.device, args.profiles)
        root = args.lut or default_lut_root()
        pred = load_predictor(args.predictor or default_predictor_dir(root, profile.id))
        path = as_tflite(args.model, root / "converted", tuple(parse_shape(s) for s in args.input_shapes))
        graph = read_tflite(path)
        p = pred.predict(graph)
        memory = {}
        if profile.kind == "mcu":
            from edgekit.predict.memory import mcu_memory

            memory = mcu_memory(graph, profile, root / profile.id / "predict-build" if args.link else None)
        doc = {**p.to_json(), "ram_bytes": memory, "memory_method": "codegen-plan" if memory else None}
        if args.json:
            print_json(doc)
            return 0
        unit = p.unit
        fmt = (lambda v: f"{v:.4f} ms") if unit == "ms" else (lambda v: f"{v:,.0f} {unit}")
        print(f"{graph.name} on {p.device_id} ({'emulated, ' if p.emulated else ''}modelled, not measured)")
        print(f"  {p.figure:<24} {fmt(p.value)}   80 % interval {fmt(p.interval[0])} .. {fmt(p.interval[1])}")
        if unit != "ms" and p.latency_ms is not None:
            print(f"  {'latency_ms':<24} {p.latency_ms:.4f} ms   ({p.latency_note})")
        for k, v in p.by_method.items():
            if v is not None:
                print(f"    {k:<22} {fmt(v)}")
        print(f"  operators {p.n_ops}, fused pairs {p.fused_pairs}, LUT exact hits {p.lut_hit_share * 100:.0f} %")
        if p.energy_mj is not None:
            print(f"  {'energy_mj':<24} {p.energy_mj:.4g} mJ (modelled from the profile's nJ/instruction)")
        for k, v in memory.items():
            print(f"  {k:<24} {v:,} bytes (exact, codegen plan{' + linked image' if k in ('flash_bytes', 'ram_bytes') else ''})")
        return 0
