"""INA219 current/power monitor on a Raspberry Pi.

Two ways to read it:
- Linux hwmon (the ina2xx driver; `ina219_hwmon` in the profile names the sysfs directory on the
  device): the runner samples power1_input (uW) in a thread across the timed window and the host
  integrates the samples between the window's edges.
- the pi-ina219 package on this machine (no `ina219_hwmon`): the INA219 sits on this host's I2C bus
  and measures the device's supply; this host samples it and the runner's window marks bound it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from edgekit.core.errors import ToolMissingError
from edgekit.measure.energy.base import EnergyMeter, EnergyReading, HostSampledMeter, Window, integrate_device_samples

_HWMON_UW_TO_W = 1e-6
DEFAULT_I2C_ADDRESS = 0x40


class Ina219HwmonMeter(EnergyMeter):
    name: ClassVar[str] = "ina219"

    def __init__(self, hwmon_dir: str, period_ms: float = 2.0) -> None:
        self.hwmon_dir, self.period_ms = hwmon_dir.rstrip("/"), period_ms

    def runner_args(self) -> list[str]:
        return ["--power-file", f"{self.hwmon_dir}/power1_input", "--power-period-ms", f"{self.period_ms:g}"]

    def device_files(self) -> list[str]:
        return [f"{self.hwmon_dir}/power1_input"]

    def read(self, window: Window) -> EnergyReading:
        return integrate_device_samples(window, _HWMON_UW_TO_W, "ina219-hwmon")


class Ina219PiMeter(HostSampledMeter):
    name: ClassVar[str] = "ina219"

    def __init__(self, shunt_ohms: float, address: int = DEFAULT_I2C_ADDRESS, device: Any = None,
                 period_s: float = 0.002) -> None:
        if device is None:
            try:
                from ina219 import INA219  # the pi-ina219 package
            except ImportError:
                raise ToolMissingError("the pi-ina219 package is not installed on this machine",
                                       "pip install -e '.[hardware]', or set ina219_hwmon in the profile") from None
            device = INA219(shunt_ohms, address=address)
            device.configure()
        self._ina = device
        super().__init__(lambda: self._ina.power() / 1000.0, period_s)  # power() is in mW

    def read(self, window: Window) -> EnergyReading:
        r = super().read(window)
        return EnergyReading(r.energy_mj, r.power_mw_mean, "ina219-pi", r.samples)
