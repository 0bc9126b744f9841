"""Measuring a candidate on the device: the ``Measurer`` interface and its implementations.

A measurement is what the device reported, with its provenance. On an emulated Cortex-M board the
latency is a count of emulated instructions (QEMU ``-icount``); it is turned into milliseconds
only through the profile's clock (instructions / clock_hz) and labelled ``icount-derived``: it is
never a real-time figure, but it is what the search compares with ``--latency-ms`` on such boards.
The latency used for feasibility is the worst case over the measured inputs. A second build with
per-layer timing gives the per-operator counts the latency model learns from; the figures and the
exported firmware are those of the build without the timing hooks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from edgekit.core.errors import UsageError
from edgekit.core.profile import DeviceProfile
from edgekit.measure.mcu_tools import mcu_tool_versions

LATENCY_KINDS = ("icount-derived", "measured")


@dataclass(frozen=True)
class Measurement:
    device_id: str
    emulated: bool
    method: str                   # qemu-icount | dwt-cyccnt | wallclock
    latency_ms: float             # worst case over the inputs; icount-derived on emulated boards
    latency_kind: str             # icount-derived | measured
    ram_bytes: int                # MCU: data + bss + reserved stack, from the ELF
    flash_bytes: int              # MCU: text + rodata + data, from the ELF
    count_per_inference: int | None = None   # instructions (qemu-icount) or cycles (dwt-cyccnt), mean
    count_max: int | None = None
    clock_hz: int | None = None
    arena_bytes: int | None = None
    stack_bytes_peak: int | None = None
    weights_bytes: int | None = None
    bit_exact: bool | None = None
    trace_run_key: str | None = None
    artifacts: dict[str, str] = field(default_factory=dict)   # tflite, c_library, firmware
    # per operator, from a second build with per-layer timing: {kind, work, elems, count} with
    # count in the method's unit (instructions or cycles); what the latency model learns from
    layers: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.latency_kind not in LATENCY_KINDS:
            raise UsageError(f"unknown latency kind {self.latency_kind!r}")
        if self.method == "qemu-icount" and self.latency_kind != "icount-derived":
            raise UsageError("a qemu-icount latency must be labelled icount-derived")

    @property
    def latency_column(self) -> str:
        return "latency_ms_icount_derived" if self.latency_kind == "icount-derived" else "latency_ms"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(d: dict[str, Any]) -> "Measurement":
        return Measurement(**d)


_KIND_OF = {"DEPTHWISE_CONV_2D": "dw", "ADD": "add", "MEAN": "mean", "AVERAGE_POOL_2D": "avgpool",
            "RELU": "act", "RELU6": "act", "FULLY_CONNECTED": "fc"}


def layer_rows(tflite: Path, figures: Any) -> list[dict[str, Any]]:
    """Per-layer counts -> rows {kind, op, work, elems, pix, count} (kinds of edgekit.nas.space.KINDS;
    other operators get kind "other"; layers that run no code are left out)."""
    from edgekit.tflite.reader import read_tflite

    graph = read_tflite(tflite)
    ops = {op.index: op for op in graph.operators}
    rows = []
    for f in figures:
        op = ops.get(f.index)
        if op is None or f.count is None:
            continue
        out_t = graph.tensor(op.outputs[0])
        out = out_t.num_elements
        pix = float(out // max(out_t.shape[-1], 1)) if out_t.shape else 1.0
        kind = _KIND_OF.get(op.opcode, "other")
        work: float = float(f.macs or 0)
        elems: float = float(out)
        if op.opcode == "CONV_2D":
            filt = graph.tensor(op.inputs[1]).shape      # (cout, kh, kw, cin)
            kind = "pw" if filt[1] * filt[2] == 1 else "conv"
        elif op.opcode == "MEAN":
            elems = float(graph.tensor(op.inputs[0]).num_elements)
        elif op.opcode == "AVERAGE_POOL_2D":
            work = float(out * op.options.get("filter_height", 1) * op.options.get("filter_width", 1))
        rows.append({"kind": kind, "op": op.opcode, "work": work, "elems": elems, "pix": pix, "count": int(f.count)})
    return rows


class Measurer(Protocol):
    device_id: str
    emulated: bool

    def measure(self, tflite: Path, work_dir: Path, name: str) -> Measurement: ...


class McuMeasurer:
    """int8 .tflite -> C library -> firmware -> board (issue 4's run path), bit-exact checked."""

    def __init__(self, profile: DeviceProfile, traces_dir: Path | None, inputs: int = 3) -> None:
        if profile.kind != "mcu":
            raise UsageError(f"device '{profile.id}' is a {profile.kind} device; the search measures on "
                             "microcontroller profiles", "pick an mcu profile, e.g. --device qemu-m4")
        self.profile = profile
        self.device_id = profile.id
        self.emulated = profile.emulated
        self.traces_dir = traces_dir
        self.inputs = inputs

    def measure(self, tflite: Path, work_dir: Path, name: str) -> Measurement:
        from edgekit.measure.mcu_run import McuRunOptions, result_record, run_model

        result = run_model(tflite, self.profile, McuRunOptions(count=self.inputs), work_dir=work_dir)
        # per-layer counts come from a second build with the timing hooks; the figures above
        # (and the exported firmware) are those of the build without them
        layered = run_model(tflite, self.profile, McuRunOptions(count=1, per_layer=True), work_dir=work_dir)
        key = None
        if self.traces_dir is not None:
            from edgekit.core.trace import TraceStore

            record = result_record(result, self.profile, mcu_tool_versions(self.profile.emulated))
            TraceStore(self.traces_dir).append(record)
            key = record.identity["run_key"]
        clock = int(self.profile.clock_hz or result.clock_hz)
        worst = max(result.count_max, result.count_per_inference)
        if result.method == "qemu-icount":
            latency_ms, kind = worst / clock * 1e3, "icount-derived"
        else:
            latency_ms, kind = worst / float(result.clock_hz) * 1e3, "measured"
        lib = work_dir / f"lib-{self.profile.cpu}"
        elf = work_dir / f"fw-{self.profile.firmware['board']}-portable" / "firmware.elf"
        elf = elf if elf.is_file() else None
        return Measurement(
            device_id=self.profile.id, emulated=self.profile.emulated, method=result.method,
            latency_ms=latency_ms, latency_kind=kind, ram_bytes=result.ram_bytes, flash_bytes=result.flash_bytes,
            count_per_inference=result.count_per_inference, count_max=worst, clock_hz=clock,
            arena_bytes=result.arena_bytes, stack_bytes_peak=result.stack_bytes_peak,
            weights_bytes=result.weights_bytes, bit_exact=result.bit_exact and layered.bit_exact, trace_run_key=key,
            artifacts={"tflite": str(tflite), "c_library": str(lib), "firmware": str(elf) if elf else ""},
            layers=layer_rows(tflite, layered.layers))


def measurer_for(profile: DeviceProfile, traces_dir: Path | None) -> Measurer:
    """The device's measurer: MCU boards through the firmware path (others are not searchable yet)."""
    if profile.kind == "mcu":
        return McuMeasurer(profile, traces_dir)
    raise UsageError(f"device '{profile.id}' is a {profile.kind} device; `edgekit search` measures on "
                     "microcontroller profiles for now", "pick an mcu profile, e.g. --device qemu-m4")
