"""Modelled energy for emulated devices: instructions x a per-device coefficient (nJ/instruction).

Nothing is measured: the figure is labelled `modelled` in the trace (energy_source) and rests on the
profile's `nj_per_instruction`, itself an estimate from the core's typical active power.
"""

from __future__ import annotations

from typing import ClassVar

from edgekit.core.errors import UsageError
from edgekit.measure.energy.base import EnergyMeter, EnergyReading, Window


class ModelledMeter(EnergyMeter):
    name: ClassVar[str] = "modelled"
    modelled: ClassVar[bool] = True

    def __init__(self, nj_per_instruction: float) -> None:
        if nj_per_instruction <= 0:
            raise UsageError("nj_per_instruction must be positive", "fix [energy] in the device profile")
        self.nj_per_instruction = nj_per_instruction

    def read(self, window: Window) -> EnergyReading:
        if window.instructions is None:
            raise UsageError("the modelled energy meter needs an instruction count",
                             "use it on emulated devices measured with qemu-icount")
        energy_mj = window.instructions * window.inferences * self.nj_per_instruction * 1e-6
        return EnergyReading(energy_mj=energy_mj, power_mw_mean=energy_mj / window.duration_s, source="modelled")
