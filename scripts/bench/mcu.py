"""Benchmark: MLPerf Tiny models on the emulated Cortex-M4 (qemu-m4, QEMU -icount shift=0).

For each model: emulated instructions per inference and per MAC, RAM, flash, code overhead (flash
minus the weights), harness overhead over the summed layer counts; with CMSIS_NN_PATH set, the same
with CMSIS-NN kernels and the ratio to the portable kernels. The CMSIS-NN build runs edgekit's own
DSP kernels where they are the faster ones (EK_OWN_KERNELS_FIRST in ek_kernels.h); "strict" is the
same library built with EK_CMSIS_NN_STRICT: CMSIS-NN for every layer it can run (in-place layers
by bands). Peer figures: TensorFlow Lite Micro measured on this same emulated board
(../shared/design/PLATFORM_NOTES.md). Every figure is an emulated instruction count, not cycles
of a real chip.

    .venv/bin/python scripts/bench/mcu.py [--inputs N] [--json FILE] [--device qemu-m4]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from edgekit.core.assets import assets_dir  # noqa: E402
from edgekit.core.profile import load_profile  # noqa: E402
from edgekit.measure.mcu_inputs import prepare_model  # noqa: E402
from edgekit.measure.mcu_run import McuRunOptions, build_checked, run_model  # noqa: E402

ASSETS = assets_dir() / "models" / "mlperf_tiny"
# model file -> (short name, TFLM reference-kernel instructions, TFLM + CMSIS-NN instructions)
MODELS = {
    "kws_ref_model_int8": ("KWS", 43_040_253, 7_697_387),
    "vww_96_int8": ("VWW", 100_251_813, 24_101_973),
    "pretrainedResnet_quant": ("IC", 107_405_880, 29_864_680),
    "ad01_int8": ("AD", 1_952_373, 582_987),
    "str_ww_ref_model": ("SWW", None, None),
    "pretrainedResnet_large_int8": ("IC-large", None, None),
}
TARGETS = {"portable_vs_tflm_ref": 3.0, "cmsis_vs_tflm_cmsis": 0.97, "kws_code_overhead_bytes": 12 * 1024,
           "harness_overhead_pct": 3.0}


# variant -> (kernels, extra C flags for the model library; `make` reads MODEL_CFLAGS from the environment)
VARIANTS = {"portable": ("portable", ""), "cmsis-nn": ("cmsis-nn", ""),
            "cmsis-nn-strict": ("cmsis-nn", "-DEK_CMSIS_NN_STRICT")}


def measure(path: Path, device: str, variant: str, inputs: int, work: Path) -> dict:
    """Run with per-layer timing (counts, layers, harness overhead); memory from the plain build
    (no per-layer hooks), which is what a deployment flashes."""
    t0 = time.monotonic()
    kernels, cflags = VARIANTS[variant]
    profile, wdir = load_profile(device), work / f"{path.stem}-{variant}"
    saved = os.environ.pop("MODEL_CFLAGS", None)
    if cflags:
        os.environ["MODEL_CFLAGS"] = cflags
    try:
        options = McuRunOptions(count=inputs, per_layer=True, kernels=kernels,
                                cmsis_nn_path=os.environ.get("CMSIS_NN_PATH"))
        r = run_model(path, profile, options, work_dir=wdir)
        plain = build_checked(profile, prepare_model(path, wdir, profile, kernels, options.cmsis_nn_path), wdir,
                              McuRunOptions(kernels=kernels, cmsis_nn_path=options.cmsis_nn_path))
    finally:
        os.environ.pop("MODEL_CFLAGS", None)
        if saved is not None:
            os.environ["MODEL_CFLAGS"] = saved
    macs = sum(x.macs or 0 for x in r.layers)
    summed = sum(x.count or 0 for x in r.layers)
    flash, weights = plain.memory.flash_bytes, plain.weights_bytes or 0
    return {"instructions": r.count_per_inference, "macs": macs,
            "instructions_per_mac": r.count_per_inference / macs if macs else None,
            "flash_bytes": flash, "weights_bytes": weights,
            "code_overhead_bytes": flash - weights, "ram_bytes": plain.memory.ram_bytes,
            "arena_bytes": r.arena_bytes, "stack_bytes_peak": r.stack_bytes_peak,
            "harness_overhead_pct": (r.count_per_inference - summed) / summed * 100.0 if summed else None,
            "bit_exact": r.bit_exact, "inputs": r.inputs, "seconds": round(time.monotonic() - t0, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=3, help="inputs per model (each checked bit-exact)")
    ap.add_argument("--device", default="qemu-m4")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = ap.parse_args()
    kernels = ["portable"] + (["cmsis-nn", "cmsis-nn-strict"] if os.environ.get("CMSIS_NN_PATH") else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgekit-bench-mcu-") as tmp:
        for stem, (short, tflm_ref, tflm_cmsis) in MODELS.items():
            path = ASSETS / f"{stem}.tflite"
            if not path.is_file():
                print(f"skip {stem}: {path} is absent", file=sys.stderr)
                continue
            row = {"model": short, "file": stem, "tflm_ref_instructions": tflm_ref, "tflm_cmsis_instructions": tflm_cmsis}
            for k in kernels:
                row[k] = measure(path, args.device, k, args.inputs, Path(tmp))
            p = row["portable"]
            row["tflm_ref_over_portable"] = tflm_ref / p["instructions"] if tflm_ref else None
            if "cmsis-nn" in row:
                c = row["cmsis-nn"]
                row["portable_over_cmsis"] = p["instructions"] / c["instructions"]
                row["cmsis_over_tflm_cmsis"] = c["instructions"] / tflm_cmsis if tflm_cmsis else None
                row["strict_over_tflm_cmsis"] = (row["cmsis-nn-strict"]["instructions"] / tflm_cmsis
                                                 if tflm_cmsis else None)
            rows.append(row)
            print(f"{short}: {p['instructions']:,} instr ({p['seconds']} s)", file=sys.stderr, flush=True)
    print_table(rows, kernels, args.device)
    if args.json:
        args.json.write_text(json.dumps({"device": args.device, "method": "qemu-icount", "targets": TARGETS,
                                         "rows": rows}, indent=2))
    return 0


def _m(x: float | None) -> str:
    return "—" if x is None else f"{x / 1e6:.2f} M"


def _r(x: float | None, fmt: str = "{:.2f}") -> str:
    return "—" if x is None else fmt.format(x)


def print_table(rows: list[dict], kernels: list[str], device: str) -> None:
    print(f"# MLPerf Tiny on {device}: emulated instructions per inference (QEMU -icount, not cycles)")
    head = ["model", "MACs", "portable", "instr/MAC", "TFLM ref", "TFLM ref / portable", "flash B", "weights B",
            "code overhead B", "RAM B", "stack peak B", "harness ovh %"]
    if "cmsis-nn" in kernels:
        head += ["CMSIS-NN", "TFLM+CMSIS", "CMSIS / TFLM+CMSIS", "portable / CMSIS", "CMSIS flash B",
                 "strict CMSIS-NN", "strict / TFLM+CMSIS"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        p = r["portable"]
        cells = [r["model"], f"{p['macs']:,}", _m(p["instructions"]), _r(p["instructions_per_mac"]),
                 _m(r["tflm_ref_instructions"]), _r(r["tflm_ref_over_portable"]), f"{p['flash_bytes']:,}",
                 f"{p['weights_bytes'] or 0:,}", f"{p['code_overhead_bytes']:,}", f"{p['ram_bytes']:,}",
                 f"{p['stack_bytes_peak']:,}", _r(p["harness_overhead_pct"], "{:.4f}")]
        if "cmsis-nn" in r:
            c = r["cmsis-nn"]
            cells += [_m(c["instructions"]), _m(r["tflm_cmsis_instructions"]), _r(r["cmsis_over_tflm_cmsis"]),
                      _r(r["portable_over_cmsis"]), f"{c['flash_bytes']:,}",
                      _m(r["cmsis-nn-strict"]["instructions"]), _r(r["strict_over_tflm_cmsis"])]
        print("| " + " | ".join(cells) + " |")
    print(f"targets: portable >= {TARGETS['portable_vs_tflm_ref']}x fewer than TFLM ref; CMSIS-NN <= "
          f"{TARGETS['cmsis_vs_tflm_cmsis']} x TFLM+CMSIS; KWS code overhead <= {TARGETS['kws_code_overhead_bytes']:,} B; "
          f"harness overhead <= {TARGETS['harness_overhead_pct']} %")
    for line in target_report(rows):
        print(line)


def target_report(rows: list[dict]) -> list[str]:
    """One line per target and model: met or missed, with the measured figure."""
    out = []
    for r in rows:
        p = r["portable"]
        checks = []
        if r["tflm_ref_over_portable"] is not None:
            checks.append(("portable vs TFLM ref", r["tflm_ref_over_portable"] >= TARGETS["portable_vs_tflm_ref"],
                           f"{r['tflm_ref_over_portable']:.2f}x fewer"))
        if r.get("cmsis_over_tflm_cmsis") is not None:
            checks.append(("CMSIS-NN vs TFLM+CMSIS", r["cmsis_over_tflm_cmsis"] <= TARGETS["cmsis_vs_tflm_cmsis"],
                           f"{r['cmsis_over_tflm_cmsis']:.3f}x"))
        if r["file"] == "kws_ref_model_int8":
            checks.append(("code overhead", p["code_overhead_bytes"] <= TARGETS["kws_code_overhead_bytes"],
                           f"{p['code_overhead_bytes']:,} B"))
        if p["harness_overhead_pct"] is not None:
            checks.append(("harness overhead", p["harness_overhead_pct"] <= TARGETS["harness_overhead_pct"],
                           f"{p['harness_overhead_pct']:.4f} %"))
        out += [f"  {r['model']}: {name} {'met' if ok else 'MISSED'} ({fig})" for name, ok, fig in checks]
    return out


if __name__ == "__main__":
    sys.exit(main())
