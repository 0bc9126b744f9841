"""`edgekit run` on a microcontroller: model -> C library -> firmware -> board -> checked figures.

Stages: prepare (a network is converted, a .tflite goes through codegen, a generated library
folder is taken as is) -> build the firmware for the profile's board and refuse it when it does
not fit -> run every input on the board -> compare every output byte with the host references
(TFLite Micro, and the same library built for the host) -> figures with their method: emulated
instructions (``qemu-icount``) or cycles of a real core (``dwt-cyccnt``), never one for the other.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from edgekit.core.errors import DeviceError, UsageError, VerificationError
from edgekit.core.profile import DeviceProfile
from edgekit.measure import mcu_frames as fr
from edgekit.measure.mcu_inputs import PreparedModel, load_inputs, make_inputs, prepare_model
from edgekit.measure.mcu_reference import first_mismatch, host_build_outputs, interpreter_outputs
from edgekit.measure.mcu_session import DeviceMeasurement, SessionOptions, connect, measure_on_board
from edgekit.targets.mcu import FirmwareImage, FirmwareOptions, build_firmware, check_fits, precheck_fits

COUNT_KEYS = {"qemu-icount": "instructions", "dwt-cyccnt": "cycles"}
_TIMER_METHOD = {fr.TIMER_SYSTICK_ICOUNT: "qemu-icount", fr.TIMER_DWT_CYCCNT: "dwt-cyccnt"}
ICOUNT_SHIFT = 0   # QEMU -icount shift=0: one emulated instruction per nanosecond of virtual time


@dataclass(frozen=True)
class McuRunOptions:
    count: int = 10                  # generated inputs when no inputs file is given (edge cases first)
    seed: int = 0
    repeats: int = 1                 # timed invokes per input
    per_layer: bool = False
    kernels: str = "portable"
    cmsis_nn_path: str | None = None
    session: SessionOptions = SessionOptions()

    def __post_init__(self) -> None:
        if self.count < 1:
            raise UsageError("--count must be at least 1")
        if self.repeats < 1:
            raise UsageError("--repeats must be at least 1")

    def firmware(self, max_layers: int) -> FirmwareOptions:
        return FirmwareOptions(per_layer=self.per_layer, kernels=self.kernels, cmsis_nn_path=self.cmsis_nn_path,
                               max_layers=max_layers)


@dataclass(frozen=True)
class LayerFigure:
    index: int
    op: str
    macs: int | None
    count: int | None                # per inference; None: the layer runs no code (a view)


@dataclass(frozen=True)
class McuRunResult:
    device_id: str
    emulated: bool
    method: str                      # qemu-icount | dwt-cyccnt
    model_name: str
    artifact_sha256: str
    build_id: str
    kernels: str
    inputs: int
    repeats: int
    count_per_inference: int         # instructions (qemu-icount) or cycles (dwt-cyccnt), mean
    count_min: int
    count_max: int
    latency_ms: float | None         # real cores only: cycles / clock
    clock_hz: int
    layers: tuple[LayerFigure, ...]
    harness_overhead_pct: float | None
    flash_bytes: int
    ram_bytes: int                   # data + bss + stack reserved
    ram_bytes_static: int            # data + bss
    stack_bytes_peak: int
    arena_bytes: int
    weights_bytes: int | None
    bit_exact: bool
    outputs_checked: int
    references: tuple[str, ...]
    link: dict[str, int] = field(default_factory=dict)

    @property
    def count_key(self) -> str:
        return COUNT_KEYS[self.method]

    def to_json(self) -> dict[str, Any]:
        k = self.count_key
        return {
            "device": self.device_id, "emulated": self.emulated, "method": self.method, "model": self.model_name,
            "artifact_sha256": self.artifact_sha256, "build_id": self.build_id, "kernels": self.kernels,
            "inputs": self.inputs, "repeats": self.repeats,
            f"{k}_per_inference": self.count_per_inference, f"{k}_min": self.count_min, f"{k}_max": self.count_max,
            "latency_ms": self.latency_ms, "clock_hz": self.clock_hz,
            "per_layer": [{"index": x.index, "op": x.op, "macs": x.macs, k: x.count} for x in self.layers],
            "harness_overhead_pct": self.harness_overhead_pct,
            "flash_bytes": self.flash_bytes, "ram_bytes": self.ram_bytes, "ram_bytes_static": self.ram_bytes_static,
            "stack_bytes_peak": self.stack_bytes_peak, "arena_bytes": self.arena_bytes,
            "weights_bytes": self.weights_bytes, "bit_exact": self.bit_exact, "outputs_checked": self.outputs_checked,
            "references": list(self.references), "link": dict(self.link),
        }


def default_work_dir(model: Path, profile: DeviceProfile) -> Path:
    root = Path(os.environ.get("EDGEKIT_CACHE", Path.home() / ".cache" / "edgekit")) / "mcu"
    key = hashlib.sha256(str(model.resolve()).encode()).hexdigest()[:12]
    return root / f"{model.stem}-{key}" / profile.id


def counts_from_ticks(ticks: float, hello: fr.Hello, profile: DeviceProfile) -> tuple[str, float]:
    """(method, count): timer ticks -> emulated instructions or real cycles."""
    method = _TIMER_METHOD.get(hello.timer_method)
    if method is None:
        raise DeviceError(f"the firmware reports an unknown timer method {hello.timer_method}",
                          "rebuild the firmware with this edgekit")
    if method != profile.timing:
        raise DeviceError(f"the firmware times with {method}, the profile {profile.id} says {profile.timing}",
                          "fix [timing] in the profile or the board's EK_TIMER_DWT")
    if method == "qemu-icount":
        return method, ticks * (1e9 * (1 << ICOUNT_SHIFT)) / hello.timer_hz
    return method, float(ticks)


def build_checked(profile: DeviceProfile, prepared: PreparedModel, work_dir: Path, options: McuRunOptions) -> FirmwareImage:
    """Refuse a model that cannot fit before building, build, refuse the image if it does not fit."""
    stage = sum(prepared.input_bytes)
    precheck_fits(profile, prepared.name, prepared.weights_bytes or 0, prepared.arena_bytes, stage)
    variant = f"fw-{profile.firmware['board']}-{options.kernels}{'-layers' if options.per_layer else ''}"
    image = build_firmware(profile, prepared.lib_dir, prepared.name, work_dir / variant,
                           options.firmware(prepared.max_layers))
    check_fits(profile, image, stage)
    return image


def _layers(prepared: PreparedModel, m: DeviceMeasurement, per_inf: int,
            profile: DeviceProfile) -> tuple[tuple[LayerFigure, ...], float]:
    """Per-layer counts per inference, and their sum (0 when the firmware has no layer timing)."""
    if m.layer_ticks is None:
        return (), 0.0
    out, summed = [], 0.0
    for i, ticks in enumerate(m.layer_ticks):
        count = None
        if ticks is not None:
            count_f = counts_from_ticks(ticks / per_inf, m.hello, profile)[1]
            summed += count_f
            count = round(count_f)
        out.append(LayerFigure(i, prepared.op_names.get(i, f"layer {i}"), prepared.op_macs.get(i), count))
    return tuple(out), summed


def run_model(model: Path, profile: DeviceProfile, options: McuRunOptions = McuRunOptions(),
              inputs_file: Path | None = None, work_dir: Path | None = None,
              on_progress: Callable[[str, int, int], None] | None = None) -> McuRunResult:
    work = work_dir or default_work_dir(model, profile)
    prepared = prepare_model(model, work, profile, options.kernels, options.cmsis_nn_path)
    inputs = load_inputs(inputs_file, prepared) if inputs_file else make_inputs(prepared, options.count, options.seed)
    image = build_checked(profile, prepared, work, options)
    session = SessionOptions(repeats=options.repeats, bank=options.session.bank,
                             max_recoveries=options.session.max_recoveries, protocol=options.session.protocol)
    m = measure_on_board(profile, image, inputs, work / "session", session,
                         on_progress=None if on_progress is None else (lambda k, n: on_progress("run", k, n)))
    references: dict[str, list[list[bytes]]] = {}
    if prepared.tflite is not None and prepared.graph is not None:
        name, outs = interpreter_outputs(prepared.tflite, prepared.graph, inputs)
        references[name] = outs
    host_dir = work / f"host-{options.kernels}"
    references["host-build"] = host_build_outputs(prepared.lib_dir, prepared.name, inputs, m.hello.output_bytes,
                                                  host_dir, options.firmware(prepared.max_layers))
    bad = first_mismatch(m.outputs, references)
    if bad is not None:
        raise VerificationError(f"{prepared.name} on {profile.id}: device outputs differ: {bad.describe()}",
                                "run `edgekit verify` on the model; if the host agrees, the firmware build is at fault")
    per_inf = len(inputs) * options.repeats
    method, mean = counts_from_ticks(sum(m.ticks_total) / per_inf, m.hello, profile)
    cmin = round(counts_from_ticks(m.ticks_min, m.hello, profile)[1])
    cmax = round(counts_from_ticks(m.ticks_max, m.hello, profile)[1])
    layers, summed = _layers(prepared, m, per_inf, profile)
    overhead = (mean - summed) / mean * 100.0 if layers and mean > 0 else None
    emem = image.memory
    return McuRunResult(
        device_id=profile.id, emulated=profile.emulated, method=method, model_name=prepared.name,
        artifact_sha256=prepared.artifact_sha256, build_id=image.build_id, kernels=options.kernels,
        inputs=len(inputs), repeats=options.repeats, count_per_inference=round(mean), count_min=cmin, count_max=cmax,
        latency_ms=None if profile.emulated else mean / float(m.hello.core_clock_hz) * 1e3,
        clock_hz=m.hello.core_clock_hz, layers=layers, harness_overhead_pct=overhead,
        flash_bytes=emem.flash_bytes, ram_bytes=emem.ram_bytes, ram_bytes_static=emem.data_bytes + emem.bss_bytes,
        stack_bytes_peak=m.stack_used_bytes, arena_bytes=m.hello.arena_bytes, weights_bytes=image.weights_bytes,
        bit_exact=True, outputs_checked=len(inputs) * len(m.hello.output_bytes), references=tuple(references),
        link={"requests": m.link.requests, "retransmissions": m.link.retransmissions,
              "crc_errors": m.link.crc_errors, "recoveries": m.recoveries, "inputs_preloaded": int(m.used_bank)})


def flash_model(model: Path, profile: DeviceProfile, options: McuRunOptions = McuRunOptions(),
                work_dir: Path | None = None) -> tuple[PreparedModel, FirmwareImage, fr.Hello | None]:
    """Build, check the fit, put the image on the board and check that it answers with this build.
    On an emulator the board is stopped again afterwards (there is nothing to keep running)."""
    from edgekit.flashers.base import flasher_for
    from edgekit.measure.mcu_protocol import McuClient
    from edgekit.transports.serial import SerialTransport

    work = work_dir or default_work_dir(model, profile)
    prepared = prepare_model(model, work, profile, options.kernels, options.cmsis_nn_path)
    image = build_checked(profile, prepared, work, options)
    with flasher_for(profile).start(image.elf) as session:
        try:
            link = SerialTransport(session.serial_options())
            link.open()
        except DeviceError:
            if session.boot_announced:
                raise
            return prepared, image, None   # flashed and verified by the probe; no serial port to ask
        with link:
            client = McuClient(link, options.session.protocol)
            hello = connect(client, session, image.build_id)
            if session.has_exit_code:
                client.exit(0)
    return prepared, image, hello


def result_record(result: McuRunResult, profile: DeviceProfile, tool_versions: dict[str, str]) -> Any:
    from edgekit.core.trace import RunRecord

    k = result.count_key
    metrics: dict[str, Any] = {
        f"{k}_per_inference": result.count_per_inference, "harness_overhead_pct": result.harness_overhead_pct,
        "ram_bytes_static": result.ram_bytes_static, "ram_bytes_peak": result.ram_bytes_static + result.stack_bytes_peak,
        "flash_bytes": result.flash_bytes, "arena_bytes": result.arena_bytes,
        "stack_bytes_peak": result.stack_bytes_peak, "weights_bytes": result.weights_bytes,
        "repeats": result.repeats, "outputs_checked": result.outputs_checked, "bit_exact": result.bit_exact,
        "cpu_freq_hz": result.clock_hz,
    }
    if result.latency_ms is not None:
        metrics["latency_ms_mean"] = result.latency_ms
    layers = [{"layer_index": x.index, "op": x.op, "macs": x.macs, ("instructions" if k == "instructions" else "cycles"): x.count}
              for x in result.layers]
    config = {"kernels": result.kernels, "repeats": result.repeats, "inputs": result.inputs,
              "per_layer": bool(result.layers), "build_id": result.build_id}
    return RunRecord.make(artifact_sha256=result.artifact_sha256, model_name=result.model_name,
                          device_id=profile.id, device_kind=profile.kind, emulated=profile.emulated,
                          method=result.method, config=config, runner_version=f"edgekit-firmware/p{fr.PROTO_VERSION}",
                          tool_versions=tool_versions, metrics=metrics, layers=layers)


__all__ = ["LayerFigure", "McuRunOptions", "McuRunResult", "build_checked", "counts_from_ticks", "flash_model",
           "result_record", "run_model"]
