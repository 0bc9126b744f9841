"""Pick the energy meter a device profile names ([energy] meter); the table is data, not if/elif."""

from __future__ import annotations

from typing import Any, Callable

from edgekit.core.errors import ProfileError
from edgekit.core.profile import DeviceProfile
from edgekit.measure.energy.base import EnergyMeter


def _rapl(e: dict[str, Any]) -> EnergyMeter:
    from edgekit.measure.energy.rapl import RaplMeter

    return RaplMeter()


def _ina219(e: dict[str, Any]) -> EnergyMeter:
    from edgekit.measure.energy.ina219 import Ina219HwmonMeter, Ina219PiMeter

    if e.get("ina219_hwmon"):
        return Ina219HwmonMeter(e["ina219_hwmon"])
    if "shunt_ohms" not in e:
        raise ProfileError("[energy] meter = \"ina219\" needs ina219_hwmon (sysfs on the device) or shunt_ohms "
                           "(pi-ina219 on this machine)", "add one of them to the profile")
    return Ina219PiMeter(float(e["shunt_ohms"]))


def _joulescope(e: dict[str, Any]) -> EnergyMeter:
    from edgekit.measure.energy.joulescope import JoulescopeMeter

    return JoulescopeMeter(e.get("joulescope_serial", ""))


def _modelled(e: dict[str, Any]) -> EnergyMeter:
    from edgekit.measure.energy.modelled import ModelledMeter

    if "nj_per_instruction" not in e:
        raise ProfileError("[energy] meter = \"modelled\" needs nj_per_instruction", "add it to the profile")
    return ModelledMeter(float(e["nj_per_instruction"]))


METERS: dict[str, Callable[[dict[str, Any]], EnergyMeter]] = {
    "rapl": _rapl, "ina219": _ina219, "joulescope": _joulescope, "modelled": _modelled,
}


def meter_for(profile: DeviceProfile) -> EnergyMeter | None:
    """The profile's meter, or None for meter = "none" (energy then stays missing, never 0)."""
    name = profile.energy.get("meter", "none")
    if name == "none":
        return None
    return METERS[name](profile.energy)
