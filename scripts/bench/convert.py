"""Issue 2 benchmark: `edgekit convert` wall time per path and int8 fidelity of the zoo networks.

For every zoo network (edgekit.zoo) and every path -- PyTorch (file.py:factory), ONNX (exported
from the same torch module) and Keras (.keras, or .h5 for the tf_keras LSTM) -- one conversion
is timed (wall clock of edgekit.convert.convert, after a warm-up conversion has paid the one-time
imports) and its fidelity report summarised: top-1 agreement float vs int8, output SQNR, max
absolute error, the layer that loses most SQNR, op count, MACs and int8 size.

The HAR networks are trained for a few epochs on the ST accelerometer windows and calibrated /
evaluated on real held-out windows. The MLPerf Tiny networks have no data here: they keep their
seeded random initialisation and are calibrated and evaluated on random data (column "data"),
so their top-1 agreement compares near-uniform logits and says little; SQNR stays meaningful.
Their BatchNorm statistics are first re-estimated on random inputs: with the initial statistics
a deep random network's activations shrink layer by layer to a constant, which quantizes to
nothing (edgekit refuses such a model when it ends in a softmax).

    .venv/bin/python scripts/bench/convert.py [--models har_lstm,kws_ds_cnn] [--paths pytorch,onnx,keras]
                                              [--eval-samples 200] [--har-epochs 3] [--json out.json]
"""

from __future__ import annotations

import sys
from pathlib import Path

import argparse
import json
import os
import tempfile
import time

import numpy as np

from edgekit import zoo
from edgekit.convert import ConvertOptions, convert
from edgekit.core.errors import EdgekitError

PATHS = ("pytorch", "onnx", "keras")
FACTORY = """import torch
from edgekit import zoo


def make():
    model = zoo.build_torch({name!r}, seed=0)
    weights = {weights!r}
    if weights:
        model.load_state_dict(torch.load(weights, weights_only=True))
    return model.eval()
"""


def har_data(window_len: int):
    from edgekit.datasets.har import default_har_dir, load_har

    if not default_har_dir().is_dir():
        return None
    return load_har(window_len=window_len)


def train_torch(model, x: np.ndarray, y: np.ndarray, epochs: int):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: extra threads only add overhead
    try:
        torch.manual_seed(0)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(xt))
            for i in range(0, len(xt), 128):
                idx = order[i:i + 128]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
                opt.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def train_keras(model, x: np.ndarray, y: np.ndarray, epochs: int, package: str) -> None:
    mod = __import__(package)
    out = np.asarray(model(x[:8]))
    probs = bool(np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-3))
    loss = mod.losses.SparseCategoricalCrossentropy(from_logits=not probs)
    kwargs = {"jit_compile": False} if package == "keras" else {}
    model.compile(optimizer=mod.optimizers.Adam(1e-2), loss=loss, **kwargs)
    model.fit(x, y, epochs=epochs, batch_size=128, verbose=0)


def settle_batchnorm_torch(model, shape: tuple[int, ...]) -> None:
    import torch

    bns = [m for m in model.modules() if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the batches below
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((256, *shape)).astype(np.float32))
    model.train()
    with torch.no_grad():
        for batch in x.split(64):
            model(batch)
    model.eval()


def settle_batchnorm_keras(model, shape: tuple[int, ...], package: str) -> None:
    mod = __import__(package)
    bns = [layer for layer in model.layers if isinstance(layer, mod.layers.BatchNormalization)]
    if not bns:
        return
    for bn in bns:
        bn.momentum = 0.0  # take this batch's statistics outright
    model(np.random.default_rng(0).standard_normal((256, *shape)).astype(np.float32), training=True)


def prepare(entry, path: str, work: Path, har, epochs: int, eval_samples: int) -> ConvertOptions:
    """Write the model (and its data, for the HAR networks) in the form the path takes."""
    import torch

    channel_first = path in ("pytorch", "onnx") and entry.input_shape_nchw != entry.input_shape_nhwc
    calib = eval_ = None
    if har is not None and entry.name.startswith("har_"):
        x_train, x_test = har.train.x, har.test.x
        if channel_first:
            x_train, x_test = (np.ascontiguousarray(np.transpose(a, (0, 2, 1))) for a in (x_train, x_test))
        pick = np.random.default_rng(0).permutation(len(x_train))
        calib, eval_ = work / "calib.npy", work / "eval.npy"
        np.save(calib, x_train[pick[:300]])
        np.save(eval_, x_test[np.linspace(0, len(x_test) - 1, min(eval_samples, len(x_test))).astype(int)])
    common = dict(output_dir=work / "out", name=f"{entry.name}_{path}", calib=calib, eval=eval_,
                  eval_samples=eval_samples, task="regressor" if entry.task == "autoencoder" else "auto")
    if path == "keras":
        model = zoo.build_keras(entry.name, seed=0)
        if calib is not None and epochs:
            train_keras(model, har.train.x, har.train.y, epochs, entry.keras_package)
        elif calib is None:
            settle_batchnorm_keras(model, entry.input_shape_nhwc, entry.keras_package)
        target = work / ("model.h5" if entry.keras_package == "tf_keras" else "model.keras")
        model.save(target)
        return ConvertOptions(model=str(target), **common)
    # One set of weights per network for both torch paths: BatchNorm statistics and training
    # are not bit-reproducible on CPU, and the two rows should describe the same network.
    weights = str(work.parent / f"{entry.name}_weights.pt")
    model = zoo.build_torch(entry.name, seed=0)
    if Path(weights).is_file():
        model.load_state_dict(torch.load(weights, weights_only=True))
    else:
        if calib is not None and epochs:
            x = har.train.x if not channel_first else np.ascontiguousarray(np.transpose(har.train.x, (0, 2, 1)))
            model = train_torch(model, x, har.train.y, epochs)
        elif calib is None:
            settle_batchnorm_torch(model, entry.input_shape_nchw)
        torch.save(model.state_dict(), weights)
    model.eval()
    factory = work / "factory.py"
    factory.write_text(FACTORY.format(name=entry.name, weights=weights))
    shape = (1, *entry.input_shape_nchw)
    if path == "pytorch":
        return ConvertOptions(model=f"{factory}:make", input_shapes=(shape,), **common)
    module = model
    onnx_path = work / "model.onnx"
    torch.onnx.export(module.eval(), (torch.zeros(shape),), str(onnx_path), dynamo=False, input_names=["input"])
    return ConvertOptions(model=str(onnx_path), **common)


def summarise(entry, path: str, seconds: float, report: dict) -> dict:
    out = report["fidelity"]["outputs"][0]
    worst = report["fidelity"]["worst_layers"][:1]
    stats = report["int8_stats"]
    return {
        "model": entry.name, "path": path, "seconds": round(seconds, 2),
        "data": "HAR" if not report["calibration"]["random"] else "random",
        "held_out": report["held_out"]["samples"], "top1_agreement": out["top1_agreement"],
        "sqnr_db": out["sqnr_db"], "max_abs_error": out["max_abs_error"],
        "worst_layer": f"{worst[0]['opcode']} -{worst[0]['sqnr_drop_db']:.1f}dB" if worst else "-",
        "ops": sum(stats["op_histogram"].values()), "macs": stats["total_macs"],
        "int8_bytes": report["int8_model"]["bytes"], "quantizer": report["calibration"]["quantizer"],
    }


def print_table(rows: list[dict]) -> None:
    head = (f"{'model':<17} {'path':<8} {'time s':>7} {'data':<6} {'n':>4} {'top-1':>7} {'SQNR dB':>8} "
            f"{'max|err|':>9} {'worst layer':<24} {'ops':>4} {'MACs':>11} {'int8 B':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['model']:<17} {r['path']:<8} {r['seconds']:>7.2f} FAILED: {r['error']}")
            continue
        top1 = "-" if r["top1_agreement"] is None else f"{100 * r['top1_agreement']:.1f}%"
        sqnr = "-" if r["sqnr_db"] is None else f"{r['sqnr_db']:.1f}"
        print(f"{r['model']:<17} {r['path']:<8} {r['seconds']:>7.2f} {r['data']:<6} {r['held_out']:>4} {top1:>7} "
              f"{sqnr:>8} {r['max_abs_error']:>9.4g} {r['worst_layer']:<24} {r['ops']:>4} {r['macs']:>11,} "
              f"{r['int8_bytes']:>8,}")


def warm_up(work: Path) -> float:
    """One small conversion per path, so the timed runs do not include importing TF/torch/onnx2tf."""
    start = time.perf_counter()
    entry = zoo.get("har_cnn1d")
    warm = work / "warm-up"
    warm.mkdir()
    for path in PATHS:
        convert(prepare(entry, path, Path(tempfile.mkdtemp(dir=warm)), None, 0, 20))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(zoo.names()), help="comma-separated zoo names")
    ap.add_argument("--paths", default=",".join(PATHS), help="comma-separated: pytorch, onnx, keras")
    ap.add_argument("--eval-samples", type=int, default=200, help="held-out samples per fidelity report")
    ap.add_argument("--har-epochs", type=int, default=3, help="training epochs of the HAR networks (0: untrained)")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = ap.parse_args(argv)
    paths = [p for p in args.paths.split(",") if p]
    unknown = set(paths) - set(PATHS)
    if unknown:
        ap.error(f"unknown path(s) {', '.join(sorted(unknown))}")
    har = har_data(zoo.HAR_WINDOW_LEN)
    if har is None:
        print("note: HAR dataset absent; the HAR networks use random data", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgekit-bench-convert-") as tmp:
        work = Path(tmp)
        print(f"warm-up (imports + 3 small conversions): {warm_up(work):.1f} s", flush=True)
        for name in args.models.split(","):
            entry = zoo.get(name)
            for path in paths:
                folder = Path(tempfile.mkdtemp(dir=work))
                options = prepare(entry, path, folder, har, args.har_epochs, args.eval_samples)
                start = time.perf_counter()
                try:
                    result = convert(options)
                    rows.append(summarise(entry, path, time.perf_counter() - start, result.report_data))
                except EdgekitError as e:
                    rows.append({"model": name, "path": path, "seconds": time.perf_counter() - start,
                                 "error": e.one_line()})
                print(f"  {name} / {path}: {rows[-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps({"cpu_count": os.cpu_count(), "rows": rows}, indent=2) + "\n")
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
