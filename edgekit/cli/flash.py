"""`edgekit flash MODEL --device ID`: build the firmware for the board, refuse it if it does not
fit, put it on the board and check that the board answers with this build."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from edgekit.cli.base import Command, print_json


def add_mcu_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments `flash` and `run` share."""
    parser.add_argument("model", type=Path, metavar="MODEL",
                        help="int8 .tflite, a network file (converted on the way) or a generated library folder")
    parser.add_argument("--device", required=True, help="device id (device_profiles/<id>.toml) or a .toml path")
    parser.add_argument("--kernels", choices=("portable", "cmsis-nn"), default="portable",
                        help="kernel backend (cmsis-nn needs CMSIS_NN_PATH)")
    parser.add_argument("--per-layer", action="store_true", help="compile per-layer timing in")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where the C library and firmware are built (default: a cache under ~/.cache/edgekit)")
    parser.add_argument("--profiles", type=Path, default=None, metavar="DIR", help="device profile directory")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


class FlashCommand(Command):
    name = "flash"
    help = "build firmware for a microcontroller board around a model and put it on the board"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_mcu_arguments(parser)

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.core.profile import load_profile
        from edgekit.measure.mcu_run import McuRunOptions, flash_model

        profile = load_profile(args.device, args.profiles)
        options = McuRunOptions(per_layer=args.per_layer, kernels=args.kernels,
                                cmsis_nn_path=os.environ.get("CMSIS_NN_PATH"))
        prepared, image, hello = flash_model(args.model, profile, options, args.work_dir)
        m = image.memory
        out = {"device": profile.id, "model": prepared.name, "firmware": str(image.elf), "build_id": image.build_id,
               "board": image.board, "flash_bytes": m.flash_bytes, "ram_bytes": m.ram_bytes,
               "flash_bytes_available": profile.flash_bytes, "ram_bytes_available": profile.ram_bytes,
               "weights_bytes": image.weights_bytes, "answered": hello is not None,
               "emulated": profile.emulated}
        if args.json:
            print_json(out)
        else:
            state = "answered with this build" if hello is not None else "programmed (no serial port to ask)"
            print(f"{prepared.name} -> {profile.id} ({image.board}): {image.elf}")
            print(f"  build {image.build_id}; flash {m.flash_bytes:,} of {profile.flash_bytes:,} bytes, "
                  f"RAM {m.ram_bytes:,} of {profile.ram_bytes:,} bytes; board {state}")
        return 0
