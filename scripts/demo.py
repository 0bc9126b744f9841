"""`make demo`: the main job of edgekit on the default emulated board, end to end, with the real CLI.

1. train the zoo's 1-D CNN briefly on the HAR accelerometer data (PyTorch)
2. `edgekit convert`  → float32 + int8 TFLite and the fidelity report
3. `edgekit codegen`  → interpreter-free C library with its static memory plan
4. `edgekit verify`   → the generated C equals TensorFlow Lite Micro byte for byte on the host
5. `edgekit run`      → firmware on the emulated Cortex-M4 (QEMU mps2-an386), outputs checked on the device
6. `edgekit profile`  → the same int8 model on a Linux device over SSH (a loopback sshd started here)
7. `edgekit search`   → a short constrained search on the board; prints where the winner's firmware-ready code is
A results table closes the demo. Every figure says how it was obtained.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "demo-out"
EDGEKIT = [sys.executable, "-m", "edgekit.cli.main"]
DEVICE = os.environ.get("EDGEKIT_DEMO_DEVICE", "qemu-m4")

FACTORY = '''"""Written by scripts/demo.py: the zoo's HAR 1-D CNN with the weights the demo trained."""
from pathlib import Path
from typing import Any

import torch

from edgekit.zoo.torch_models import har_cnn1d


def har_net():
    net = har_cnn1d(window_len={window_len})
    net.load_state_dict(torch.load(Path(__file__).with_name("har_net.pt"), weights_only=True))
    return net.eval()
'''


def step(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def edgekit(*args: str, capture_json: bool = False) -> Any:
    cmd = [*EDGEKIT, *args]
    print("$ edgekit " + " ".join(args), flush=True)
    if capture_json:
        r = subprocess.run(cmd, cwd=OUT, stdout=subprocess.PIPE, text=True)
    else:
        r = subprocess.run(cmd, cwd=OUT)
    if r.returncode != 0:
        sys.exit(f"demo: `edgekit {args[0]}` failed with exit code {r.returncode}")
    if capture_json:
        return json.loads(r.stdout)
    return None


def train() -> tuple[float, int]:
    import numpy as np
    import torch

    from edgekit.datasets.har import load_har
    from edgekit.zoo.torch_models import har_cnn1d

    data = load_har()
    torch.manual_seed(0)
    net = har_cnn1d(window_len=data.window_len)
    to_nct = lambda x: torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))  # noqa: E731
    x, y = to_nct(data.train.x), torch.from_numpy(data.train.y)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _epoch in range(4):
        perm = torch.randperm(len(y))
        for i in range(0, len(y), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        acc = float((net(to_nct(data.test.x)).argmax(1).numpy() == data.test.y).mean())
    torch.save(net.state_dict(), OUT / "har_net.pt")
    (OUT / "har_net.py").write_text(FACTORY.format(window_len=data.window_len))
    np.save(OUT / "calib.npy", data.train.x.transpose(0, 2, 1).astype(np.float32))   # the model's own layout
    np.save(OUT / "eval.npy", data.test.x.transpose(0, 2, 1).astype(np.float32))
    print(f"trained har_net: float test accuracy {acc:.1%} on {len(data.test.y)} windows of held-out recordings")
    return acc, data.window_len


def main() -> int:
    started = time.time()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    step("1. train a small network on real accelerometer data")
    acc, window_len = train()

    step("2. convert: PyTorch → float32 + int8 TFLite, with a fidelity report")
    edgekit("convert", "har_net.py:har_net", "--input-shape", f"1,3,{window_len}", "--calib", "calib.npy",
            "--eval", "eval.npy", "-o", "model")
    fidelity = json.loads((OUT / "model" / "har_net_int8.fidelity.json").read_text())

    step("3. codegen: int8 TFLite → C library with a static arena")
    edgekit("codegen", "model/har_net_int8.tflite", "-o", "har_net_c", "--report")
    memory = edgekit("codegen", "model/har_net_int8.tflite", "-o", "har_net_c", "--json", capture_json=True)

    step("4. verify: generated C vs TensorFlow Lite Micro, byte for byte, on the host")
    verify = edgekit("verify", "model/har_net_int8.tflite", "--inputs", "50", "--json", capture_json=True)

    step(f"5. run on the emulated board ({DEVICE})")
    run = edgekit("run", "model/har_net_int8.tflite", "--device", DEVICE, "--repeats", "3", "--per-layer",
                  "--json", capture_json=True)

    step("6. profile over SSH on a Linux device (loopback sshd)")
    sys.path.insert(0, str(REPO / "scripts"))
    import sshd_local

    handle = sshd_local.start_sshd(OUT / "sshd")          # a free port, its own host and client keys
    try:
        (OUT / "loopback-ssh.toml").write_text(handle.profile_toml(workdir=str(OUT / "device")))
        prof = edgekit("profile", "model/har_net_int8.tflite", "--device", str(OUT / "loopback-ssh.toml"),
                       "--repeats", "200", "--json", capture_json=True)
    finally:
        handle.stop()

    step(f"7. a short hardware-in-the-loop search on {DEVICE} (latency target 4.5 ms, icount-derived)")
    edgekit("search", "--device", DEVICE, "--data", "har", "--space", "mcu-ir-tiny", "--latency-ms", "4.5",
            "--budget", "3", "--supernet-epochs", "2", "--candidate-epochs", "3", "--max-train-samples", "600",
            "--out", "search")

    step("results")
    _print_table(acc, fidelity, memory, verify, run, prof)
    print(f"\ndemo finished in {time.time() - started:.0f} s; everything it wrote is in {OUT}")
    return 0


def _print_table(acc: float, fidelity: dict, memory: dict | None, verify: dict | None, run: dict | None,
                 prof: dict | None) -> None:
    out = fidelity["fidelity"]["outputs"][0]
    rows = [
        ("float test accuracy (PyTorch)", f"{acc:.1%}", "measured on held-out recordings"),
        ("int8 vs float top-1 agreement", _pct(out["top1_agreement"]),
         f"measured on {fidelity['fidelity']['samples']} held-out windows, ai-edge-litert"),
        ("int8 output SQNR", f"{out['sqnr_db']:.1f} dB", "same samples"),
        ("arena (RAM for activations)", f"{memory['arena_bytes']:,} B", "static plan, known before flashing"),
        ("weights (flash)", f"{memory['weights_bytes']:,} B", "static plan"),
        ("host C vs TFLM", f"bit-exact {verify['exact']}/{verify['total']}", "compared byte for byte"),
    ]
    if run:
        rows += [
            (f"{run['device']} instructions / inference", f"{run['instructions_per_inference']:,}",
             f"{run['method']}: emulated instruction count, not cycles"),
            (f"{run['device']} outputs", f"bit-exact {run['outputs_checked']} checked" if run["bit_exact"] else "MISMATCH",
             "device vs host reference"),
            (f"{run['device']} flash / RAM", f"{run['flash_bytes']:,} B / {run['ram_bytes']:,} B", "from the ELF"),
            (f"{run['device']} stack high-water", f"{run['stack_bytes_peak']:,} B", "measured on the device"),
        ]
    if prof:
        r = prof[0] if isinstance(prof, list) else prof
        rows.append(("localhost-ssh latency p50", f"{r['latency_ms_p50'] * 1000:.1f} µs",
                     "wallclock on the device, ai-edge-litert"))
    width = max(len(r[0]) for r in rows)
    for name, value, how in rows:
        print(f"  {name:<{width}}  {value:>22}   ({how})")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


if __name__ == "__main__":
    sys.exit(main())
