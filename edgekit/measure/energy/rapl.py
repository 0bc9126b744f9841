"""Linux powercap / RAPL: a cumulative energy counter (uJ) the runner reads at the window edges.

The counter covers a whole package (every core, uncore, other processes), updates about every
millisecond and wraps at max_energy_range_uj; on recent kernels only root may read it.
"""

from __future__ import annotations

from typing import ClassVar

from edgekit.core.errors import DeviceError
from edgekit.measure.energy.base import EnergyMeter, EnergyReading, Window

DEFAULT_DOMAIN = "/sys/class/powercap/intel-rapl:0"


class RaplMeter(EnergyMeter):
    name: ClassVar[str] = "rapl"

    def __init__(self, domain: str = DEFAULT_DOMAIN) -> None:
        self.domain = domain.rstrip("/")

    def runner_args(self) -> list[str]:
        return ["--energy-counter", f"{self.domain}/energy_uj",
                "--energy-counter-max", f"{self.domain}/max_energy_range_uj"]

    def device_files(self) -> list[str]:
        return [f"{self.domain}/energy_uj"]

    def read(self, window: Window) -> EnergyReading:
        e = window.device_energy or {}
        start, end, wrap = e.get("start"), e.get("end"), e.get("wrap")
        if e.get("kind") != "counter_uj" or start is None or end is None:
            raise DeviceError(f"RAPL counter {self.domain}/energy_uj is not readable on the device",
                              "it needs a powercap-capable CPU and (on recent kernels) root; "
                              "otherwise set [energy] meter = \"none\"")
        delta_uj = end - start
        if delta_uj < 0:
            if wrap is None:
                raise DeviceError("RAPL counter wrapped during the window and its range is unknown",
                                  f"make {self.domain}/max_energy_range_uj readable, or shorten the run")
            delta_uj += wrap
        energy_mj = delta_uj / 1000.0
        return EnergyReading(energy_mj=energy_mj, power_mw_mean=energy_mj / window.duration_s, source="rapl")
