"""`edgekit verify MODEL`: generated C vs a reference interpreter, byte for byte."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from edgekit.cli.base import Command, print_json


class VerifyCommand(Command):
    name = "verify"
    help = "build the generated C for the host and compare it byte for byte with TFLite Micro / LiteRT"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("model", type=Path, help="int8 .tflite model")
        parser.add_argument("--inputs", type=int, default=100, metavar="N",
                            help="random inputs on top of the 3 edge cases (default 100)")
        parser.add_argument("--kernels", choices=("portable", "cmsis-nn"), default="portable",
                            help="kernel backend (cmsis-nn needs CMSIS_NN_PATH)")
        parser.add_argument("--reference", choices=("tflm", "litert"), default="tflm",
                            help="reference interpreter (default tflm; falls back to litert if tflm cannot run it)")
        parser.add_argument("--seed", type=int, default=0, help="random seed of the inputs")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def invoke(self, args: argparse.Namespace) -> int:
        from dataclasses import asdict

        from edgekit.codegen.verify import VerifyOptions, verify
        from edgekit.core.errors import VerificationError

        res = verify(args.model, VerifyOptions(inputs=args.inputs, kernels=args.kernels, reference=args.reference,
                                               seed=args.seed, cmsis_nn_path=os.environ.get("CMSIS_NN_PATH")))
        if args.json:
            print_json({**asdict(res), "ok": res.ok})
        else:
            if res.fallback_note:
                print(f"note: {res.fallback_note}")
            other = (f"{res.other_max_lsb:g} LSB" if res.other_max_lsb is not None
                     else f"n/a ({res.other_note})")
            print(f"{res.model} [{res.kernels}] vs {res.reference}: bit-exact {res.exact}/{res.total} "
                  f"(max diff {res.max_lsb:g} LSB); vs {res.other_reference}: max diff {other}")
        if not res.ok:
            d = res.first_diff
            where = (f"first differing layer: op {d.op_index} {d.opcode} (tensor {d.tensor!r}: {d.differing} of "
                     f"{d.elements} values differ, max {d.max_lsb:g} LSB)" if d else
                     "no intermediate layer differs (outputs differ)")
            raise VerificationError(f"{res.model}: {res.total - res.exact} of {res.total} inputs differ; {where}")
        return 0
