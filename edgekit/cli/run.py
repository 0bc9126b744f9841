"""`edgekit run MODEL --device ID`: run a model on a microcontroller board (or its emulation),
check every output byte against the host references and report what the board measured.

Emulated boards report instructions (method qemu-icount), real cores cycles (dwt-cyccnt); the
result is appended to the trace store. JSON keys: device, emulated, method, model,
instructions_per_inference | cycles_per_inference (+ _min, _max), latency_ms (real cores),
per_layer [{index, op, macs, instructions|cycles}], harness_overhead_pct, flash_bytes, ram_bytes,
ram_bytes_static, stack_bytes_peak, arena_bytes, weights_bytes, bit_exact, outputs_checked,
references, inputs, repeats, build_id, kernels, link, trace_run_key.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from edgekit.cli.base import Command, print_json
from edgekit.cli.flash import add_mcu_arguments
from edgekit.measure.mcu_tools import mcu_tool_versions


class RunCommand(Command):
    name = "run"
    help = "run a model on a microcontroller board: bit-exact check, instructions/cycles, memory"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_mcu_arguments(parser)
        parser.add_argument("--inputs", type=Path, default=None, metavar="FILE",
                            help="inputs: .npy, .npz (one array per input) or .bin records (default: generated)")
        parser.add_argument("--count", type=int, default=10,
                            help="generated inputs when no --inputs: 3 edge cases, then random (default 10)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the generated inputs")
        parser.add_argument("--repeats", type=int, default=1, help="timed invokes per input (default 1)")
        parser.add_argument("--traces", type=Path, default=None, help="trace store directory (default $EDGEKIT_TRACES "
                            "or ./edgekit-traces)")
        parser.add_argument("--no-trace", action="store_true", help="do not append the result to the trace store")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.core.profile import load_profile
        from edgekit.core.trace import TraceStore
        from edgekit.measure.mcu_run import McuRunOptions, result_record, run_model

        profile = load_profile(args.device, args.profiles)
        options = McuRunOptions(count=args.count, seed=args.seed, repeats=args.repeats, per_layer=args.per_layer,
                                kernels=args.kernels, cmsis_nn_path=os.environ.get("CMSIS_NN_PATH"))
        result = run_model(args.model, profile, options, args.inputs, args.work_dir)
        key = None
        if not args.no_trace:
            record = result_record(result, profile, mcu_tool_versions(profile.emulated, args.kernels))
            TraceStore(args.traces).append(record)
            key = record.identity["run_key"]
        if args.json:
            print_json({**result.to_json(), "trace_run_key": key})
            return 0
        _print_table(result, key)
        return 0


def _print_table(result, key: str | None) -> None:  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.table import Table

    k = result.count_key
    what = "emulated instructions, not cycles" if k == "instructions" else "CPU cycles (DWT)"
    console = Console(width=120)
    t = Table(title=f"{result.model_name} on {result.device_id}")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_row("method", f"{result.method} ({what})")
    t.add_row(f"{k} / inference", f"{result.count_per_inference:,}")
    t.add_row(f"{k} min .. max", f"{result.count_min:,} .. {result.count_max:,}")
    if result.latency_ms is not None:
        t.add_row("latency ms", f"{result.latency_ms:.3f} @ {result.clock_hz / 1e6:g} MHz")
    if result.harness_overhead_pct is not None:
        t.add_row("harness overhead", f"{result.harness_overhead_pct:.3f} %")
    t.add_row("flash bytes", f"{result.flash_bytes:,}")
    if result.weights_bytes is not None:
        t.add_row("  of which weights", f"{result.weights_bytes:,}")
    t.add_row("RAM bytes (data+bss+stack)", f"{result.ram_bytes:,}")
    t.add_row("  arena", f"{result.arena_bytes:,}")
    t.add_row("  stack high-water", f"{result.stack_bytes_peak:,}")
    t.add_row("outputs bit-exact", f"{result.outputs_checked} of {result.outputs_checked} vs {', '.join(result.references)}")
    t.add_row("inputs x repeats", f"{result.inputs} x {result.repeats}")
    console.print(t)
    if result.layers:
        lt = Table(title="per layer")
        for col in ("#", "op", "MACs", k, "share"):
            lt.add_column(col, justify="right" if col != "op" else "left")
        for x in result.layers:
            share = "" if x.count is None else f"{100.0 * x.count / result.count_per_inference:.1f} %"
            lt.add_row(str(x.index), x.op, "" if x.macs is None else f"{x.macs:,}",
                       "no code" if x.count is None else f"{x.count:,}", share)
        console.print(lt)
    if key:
        console.print(f"recorded in the trace store as run {key}")
