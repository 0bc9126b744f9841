"""Joulescope (JS110 / JS220) on this machine, in series with the device's supply.

The joulescope package reports statistics blocks (mean power over each block) at the reduction
frequency; each block is stamped with this host's clock on arrival and the runner's window marks
bound the blocks that count. Power level from the meter, duration from the device's own clock.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from edgekit.core.errors import DeviceError, ToolMissingError
from edgekit.measure.energy.base import EnergyReading, HostSampledMeter, Window

REDUCTION_FREQUENCY = "50 Hz"   # 20 ms blocks: fine enough for windows of a second or more


class JoulescopeMeter(HostSampledMeter):
    name: ClassVar[str] = "joulescope"

    def __init__(self, serial: str = "", scan: Any = None) -> None:
        super().__init__(lambda: 0.0)  # samples arrive by callback, not by polling
        if scan is None:
            try:
                import joulescope
            except ImportError:
                raise ToolMissingError("the joulescope package is not installed",
                                       "pip install -e '.[hardware]'") from None
            scan = joulescope.scan
        devices = list(scan(config="auto"))
        if serial:
            devices = [d for d in devices if str(d.serial_number) == serial]
        if len(devices) != 1:
            what = f"serial {serial}" if serial else "any serial"
            raise DeviceError(f"found {len(devices)} Joulescope(s) with {what}, need exactly one",
                              "plug one in, or set [energy] joulescope_serial")
        self._device = devices[0]

    def _on_stats(self, value: dict[str, Any]) -> None:
        power = value["signals"]["power"]["avg"]["value"]
        self._samples.append((time.monotonic_ns(), float(power)))

    def start(self) -> None:
        self._samples, self._marks, self._error = [], {}, None
        self._device.open()
        self._device.parameter_set("reduction_frequency", REDUCTION_FREQUENCY)
        self._device.statistics_callback_register(self._on_stats)

    def stop(self) -> None:
        self._device.statistics_callback_unregister(self._on_stats)
        self._device.close()

    def read(self, window: Window) -> EnergyReading:
        r = super().read(window)
        return EnergyReading(r.energy_mj, r.power_mw_mean, "joulescope", r.samples)
