"""`edgekit predictor train | eval --device ID`: fit a device's latency predictor from its LUT and
measured whole models; measure held-out architectures and report how well it predicts them.

train   measures the training architectures (unless --archs 0), fits the per-kernel LightGBM
        models, the fusion rules, the whole-model correction and the FLOPs baseline, and saves
        them (LightGBM text + JSON) under <lut>/<device>/predictor
eval    measures held-out architectures (never in the training set), the Keras-converted ones and
        the MLPerf Tiny models, and writes the table, CSV, JSON and a predicted-vs-measured PNG;
        --adapt-from SRC adds the few-shot adaptation of SRC's predictor to this device
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from edgekit.cli.base import Command, Group, print_json
from edgekit.cli.lut import add_device_arguments, add_measure_arguments, linux_options


def _context(args: argparse.Namespace) -> tuple[Any, Path, Any]:
    from edgekit.core.profile import load_profile
    from edgekit.core.trace import TraceStore
    from edgekit.lut.table import default_lut_root

    profile = load_profile(args.device, args.profiles)
    root = args.lut or default_lut_root()
    return profile, root, TraceStore(args.traces or root / profile.id / "traces")


def _measure(items: list[Any], profile: Any, root: Path, store: Any, args: argparse.Namespace) -> list[Any]:
    from edgekit.predict.wholesets import measure_items

    def progress(k: int, n: int) -> None:
        if not args.json and (k % 10 == 0 or k == n):
            sys.stderr.write(f"{profile.id}: whole models measured {k}/{n}\n")

    return measure_items(items, profile, store, root, linux_options(args), args.sessions, args.kernels,
                         args.trust_on_first_use, progress)


def _add_common(parser: argparse.ArgumentParser) -> None:
    add_device_arguments(parser)
    add_measure_arguments(parser)
    parser.add_argument("--sessions", type=int, default=3,
                        help="Linux: sessions per whole model, interleaved; the fastest is kept (%(default)s)")
    parser.add_argument("--predictor", type=Path, default=None, help="predictor directory (default <lut>/<device>/predictor)")
    parser.add_argument("--json", action="store_true")


class PredictorTrainCommand(Command):
    name = "train"
    help = "fit the device's predictor from its LUT and measured training architectures"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _add_common(parser)
        parser.add_argument("--archs", type=int, default=40, help="training architectures to measure (%(default)s)")
        parser.add_argument("--seed", type=int, default=0, help="booster seed")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.lut.table import LutTable
        from edgekit.predict.io import default_predictor_dir, save_predictor
        from edgekit.predict.train import train_predictor
        from edgekit.predict.wholesets import train_items

        profile, root, store = _context(args)
        table = LutTable(root, profile.id)
        whole = _measure(train_items(args.archs, root / "archs"), profile, root, store, args) if args.archs else []
        pred = train_predictor(table, whole, profile, args.seed)
        out = save_predictor(pred, args.predictor or default_predictor_dir(root, profile.id))
        m = pred.meta
        if args.json:
            print_json({"predictor": str(out), **m})
            return 0
        fused = [k for k, r in pred.rules.items() if r.fused]
        penalties = [k for k, r in pred.rules.items() if r.penalty]
        print(f"{profile.id}: predictor of {m['figure']} from {m['lut_rows']} LUT rows and "
              f"{sum(m['whole_models'].values())} whole models {m['whole_models']}; kernel rows {m['kernel_rows']}; "
              f"fixed cost per inference {pred.overhead.value:.4g}; fused pairs: {', '.join(fused) or 'none'}; "
              f"pairs costing more than their parts: {', '.join(penalties) or 'none'}; "
              f"80 % interval of the correction [{pred.correction.q_lo:+.3f}, {pred.correction.q_hi:+.3f}] (log ratio); "
              f"saved in {out}")
        return 0


class PredictorEvalCommand(Command):
    name = "eval"
    help = "accuracy on held-out architectures measured on the device (table + PNG)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _add_common(parser)
        parser.add_argument("--archs", type=int, default=100, help="held-out architectures (%(default)s)")
        parser.add_argument("--converter", type=int, default=4,
                            help="held-out architectures converted through Keras + the TFLite converter (%(default)s)")
        parser.add_argument("--no-zoo", action="store_true", help="leave out the MLPerf Tiny reference models")
        parser.add_argument("--out", type=Path, default=None, help="output directory (default <lut>/<device>/eval)")
        parser.add_argument("--adapt-from", default=None, metavar="DEVICE",
                            help="also adapt DEVICE's predictor to this device with 5/10/20 of these architectures")

    def invoke(self, args: argparse.Namespace) -> int:
        from edgekit.core.assets import assets_dir
        from edgekit.predict.evaluate import evaluate, format_table, write_outputs
        from edgekit.predict.io import default_predictor_dir, load_predictor
        from edgekit.predict.wholesets import test_items

        profile, root, store = _context(args)
        pred = load_predictor(args.predictor or default_predictor_dir(root, profile.id))
        assets = None
        if not args.no_zoo:
            assets = assets_dir()
            if not (assets / "models" / "mlperf_tiny").is_dir():
                sys.stderr.write(f"warning: {assets}/models/mlperf_tiny not found: evaluating without the MLPerf "
                                 "Tiny models (set EDGEKIT_ASSETS)\n")
        items = test_items(args.archs, root / "archs", args.converter, not args.no_zoo, assets)
        whole = _measure(items, profile, root, store, args)
        res = evaluate(pred, whole)
        files = write_outputs(res, args.out or root / profile.id / "eval")
        adapt = None
        if args.adapt_from:
            from edgekit.predict.adapt import adaptation_curve

            src = load_predictor(default_predictor_dir(root, args.adapt_from))
            archs = [w for w in whole if w.source == "arch"]
            adapt = adaptation_curve(src, [w.graph for w in archs], [w.value for w in archs])
        if args.json:
            print_json({**res.to_json(), "files": {k: str(v) for k, v in files.items()}, "adaptation": adapt})
            return 0
        print(format_table(res))
        for subset in res.table:
            if subset != "all":
                print()
                print(format_table(res, subset))
        if adapt:
            print(f"\nadaptation {args.adapt_from} -> {profile.id}: " + ", ".join(
                f"k={k}: rho {v['spearman_rho']:.3f}" for k, v in adapt.items()))
        print(f"\nwrote {', '.join(str(p) for p in files.values())}")
        return 0


class PredictorCommand(Group):
    name = "predictor"
    help = "per-device latency predictors: train, eval"
    children = (PredictorTrainCommand, PredictorEvalCommand)
