"""Search outputs: explored set and Pareto front (CSV), accuracy-vs-latency plot (PNG), winner
artifacts (int8 .tflite, C library, firmware image), and a short report (Markdown + JSON).

Column names carry units and provenance: on emulated boards the measured latency column is
``latency_ms_icount_derived`` (emulated instructions / the profile's clock), next to the
instruction count itself; predicted figures are prefixed ``predicted_``, supernet estimates
``supernet_``.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

from edgekit.core.artifact import atomic_write_bytes, atomic_write_text
from edgekit.nas.strategies.base import Targets


def pareto_front(points: list[tuple[float, float, Any]]) -> list[Any]:
    """Items not dominated in (lower latency, higher accuracy); points are (latency, acc, item)."""
    front, best_acc = [], -1.0
    for lat, acc, item in sorted(points, key=lambda p: (p[0], -p[1])):
        if acc > best_acc:
            front.append(item)
            best_acc = acc
    return front


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if v is None else (f"{v:.6g}" if isinstance(v, float) else v) for v in row])
    atomic_write_text(path, buf.getvalue())


def latency_column(records: list[Any]) -> str:
    if records and records[0].measurement.latency_kind == "icount-derived":
        return "latency_ms_icount_derived"
    return "latency_ms"


def write_tables(root: Path, space: Any, scores: dict[str, float], records: list[Any], predictor: Any,
                 resources: Any, targets: Targets, arch_of: dict[str, Any]) -> dict[str, Path]:
    lat_col = latency_column(records)
    by_key = {r.key: r for r in records}
    explored: list[list[Any]] = []
    predicted_points = []
    for key in sorted(scores):
        arch = arch_of.get(key)
        if arch is None:
            continue
        mean, std = predictor.predict(arch) if predictor else (None, None)
        flash, ram = resources.predict(arch) if resources else (None, None)
        r = by_key.get(key)
        m = r.measurement if r else None
        explored.append([key, arch.label(), scores[key], mean, std, ram, flash, bool(r),
                         r.acc if r else None, r.prepared["int8_test_acc"] if r else None,
                         m.latency_ms if m else None, m.count_per_inference if m else None,
                         m.ram_bytes if m else None, m.flash_bytes if m else None,
                         r.feasible(targets) if r else None])
        if mean is not None:
            predicted_points.append((mean, scores[key], key))
    on_front = set(pareto_front(predicted_points))
    for row in explored:
        row.insert(8, row[0] in on_front)
    count_col = "instructions_per_inference" if lat_col.endswith("icount_derived") else "cycles_per_inference"
    paths = {"explored": root / "explored.csv", "pareto": root / "pareto.csv"}
    _csv(paths["explored"], ["key", "arch", "supernet_val_acc", "predicted_latency_ms", "predicted_latency_std_ms",
                             "predicted_ram_bytes", "predicted_flash_bytes", "measured", "on_predicted_front",
                             "int8_val_acc", "int8_test_acc", lat_col, count_col, "ram_bytes", "flash_bytes",
                             "feasible"], explored)
    front = pareto_front([(r.latency_ms, r.acc, r) for r in records])
    _csv(paths["pareto"], ["key", "arch", "round", "int8_val_acc", "int8_test_acc", lat_col, count_col,
                           "ram_bytes", "flash_bytes", "feasible"],
         [[r.key, r.arch.label(), r.round, r.acc, r.prepared["int8_test_acc"], r.latency_ms,
           r.measurement.count_per_inference, r.measurement.ram_bytes, r.measurement.flash_bytes,
           r.feasible(targets)] for r in front])
    return paths


def plot(path: Path, scores: dict[str, float], records: list[Any], predictor: Any, targets: Targets,
         winner: Any, arch_of: dict[str, Any], title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lat_col = latency_column(records)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    if predictor is not None:
        pts = [(predictor.predict(arch_of[k])[0], v) for k, v in scores.items() if k in arch_of]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=8, c="0.75",
                       label="explored (predicted latency, supernet accuracy)")
    ax.scatter([r.latency_ms for r in records], [r.acc for r in records], s=28, c="tab:blue",
               label=f"measured (int8 val accuracy, {lat_col})")
    front = pareto_front([(r.latency_ms, r.acc, r) for r in records])
    ax.step([r.latency_ms for r in front], [r.acc for r in front], where="post", c="tab:blue", lw=1)
    ax.axvline(targets.latency_ms, c="tab:red", ls="--", label=f"target {targets.latency_ms:g} ms")
    if winner is not None:
        ax.scatter([winner.latency_ms], [winner.acc], marker="*", s=220, c="tab:red", zorder=5, label="winner")
    ax.set_xlabel(f"latency (ms, {'emulated instructions / clock' if 'icount' in lat_col else 'measured'})")
    ax.set_ylabel("accuracy (validation split)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def export_winner(dest: Path, winner: Any, candidate_dir: Path) -> dict[str, str]:
    """Copy the measured artifacts of the winner: exactly what was measured, nothing rebuilt."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    arts = winner.measurement.artifacts
    out: dict[str, str] = {}
    tfl = Path(winner.prepared["tflite"])
    shutil.copy2(tfl, dest / "model_int8.tflite")
    out["tflite"] = str(dest / "model_int8.tflite")
    lib = Path(arts.get("c_library", ""))
    if lib.is_dir():
        shutil.copytree(lib, dest / "c_library", ignore=shutil.ignore_patterns("build", "obj"))
        out["c_library"] = str(dest / "c_library")
    elf = Path(arts.get("firmware", "")) if arts.get("firmware") else None
    if elf is not None and elf.is_file():
        shutil.copy2(elf, dest / "firmware.elf")
        out["firmware"] = str(dest / "firmware.elf")
    for name in ("arch.json", "model.py", "weights.pt"):
        if (candidate_dir / name).is_file():
            shutil.copy2(candidate_dir / name, dest / name)
    out["network"] = str(dest / "model.py")
    return out


def report_markdown(result: dict[str, Any]) -> str:
    t, w, c = result["targets"], result.get("winner"), result["cost"]
    lat_col = result["latency_column"]
    lines = [f"# edgekit search on {result['device']} ({result['method']}{', emulated' if result['emulated'] else ''})",
             "", f"Data: {result['data']}; space: {result['space']}; strategy: {result['strategy']}; seed {result['seed']}.",
             "", "## Targets", "", f"- latency <= {t['latency_ms']:g} ms"
             + (" (compared with emulated instructions / profile clock)" if "icount" in lat_col else ""),
             f"- RAM <= {t['ram_bytes']:,} bytes", f"- flash <= {t['flash_bytes']:,} bytes", ""]
    if w:
        lines += ["## Winner (measured on the device)", "", f"- architecture: `{w['arch']}` (key {w['key']})",
                  f"- {lat_col}: {w['latency_ms']:.3f} ({w['latency_vs_target_pct']:+.2f} % of the target)"]
        if w.get("instructions_per_inference") is not None:
            lines.append(f"- instructions per inference: {w['instructions_per_inference']:,} (emulated, not cycles)")
        lines += [f"- RAM: {w['ram_bytes']:,} bytes; flash: {w['flash_bytes']:,} bytes; arena {w['arena_bytes']:,} bytes",
                  f"- int8 accuracy: {w['int8_val_acc']:.4f} validation, {w['int8_test_acc']:.4f} test "
                  f"(float validation {w['float_val_acc']:.4f})",
                  f"- outputs bit-exact on the device vs the host references: {w['bit_exact']}", ""]
        noise = result.get("accuracy_noise") or {}
        if noise.get("float_val_accs"):
            lines += [f"Accuracy noise: `{noise['arch']}` retrained with {len(noise['float_val_accs'])} seeds gave "
                      f"validation accuracy {', '.join(f'{a:.4f}' for a in noise['float_val_accs'])} (std "
                      f"{noise['std']:.4f}); differences below {noise['tolerance']:.4f} are ties, and among ties "
                      "the candidate using most of the latency budget wins.", ""]
        lines += ["Files: " + ", ".join(f"{k} `{v}`" for k, v in w["files"].items()), ""]
    else:
        lines += ["## No feasible architecture", "", result.get("error", ""), ""]
    lines += ["## Search cost", "", f"- wall time: {c['wall_s']:.0f} s (this machine, all runs of this directory)",
              f"- device measurements: {c['device_measurements']}; candidates trained from scratch: "
              f"{c['candidates_trained']}", f"- supernet epochs: {c['supernet_epochs']}; sub-networks scored: "
              f"{c['subnets_scored']}", f"- latency predictor: {result.get('predictor', {})}", ""]
    return "\n".join(lines) + "\n"
