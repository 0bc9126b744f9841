"""The EnergyMeter interface and the timed window it integrates over.

Three ways a meter sees the window, chosen by where it sits:
- device-side counter (RAPL energy_uj): the runner reads the counter right before the first timed
  inference and right after the last one; the difference is the window's energy, exactly.
- device-side samples (an INA219's hwmon power file on the board): the runner samples the file in a
  thread, with its own clock, across the window; the host integrates the samples between the
  runner's window start and end times (trapezoids, linear interpolation at the two edges).
- host-side samples (Joulescope, an INA219 read by this machine): the host samples with its own
  clock; the runner prints "mark window-start" / "mark window-end" as the window opens and closes
  and the host timestamps the marks as they stream in. The mean power between the marks times the
  runner's own window duration is the energy (the marks are late by about one network delay at
  both ends, so the duration is taken from the device, the power level from the meter).
- modelled: energy = emulated instruction count x a per-device coefficient; labelled `modelled`.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from edgekit.core.errors import DeviceError
from edgekit.measure.energy.integrate import integrate_j, mean_power_w


@dataclass(frozen=True)
class Window:
    """What is known about one timed window once the runner has finished."""

    duration_s: float                    # device clock, first timed inference start .. last end
    inferences: int
    start_ns: int | None = None          # device clock (runner's perf_counter_ns) of the edges
    end_ns: int | None = None
    device_energy: dict[str, Any] | None = None   # the runner's "energy" entry, raw
    instructions: int | None = None      # emulated instructions per inference (modelled meter)


@dataclass(frozen=True)
class EnergyReading:
    energy_mj: float
    power_mw_mean: float
    source: str           # e.g. "rapl", "ina219-hwmon", "joulescope", "modelled"
    samples: int = 0      # how many samples the figure rests on (0 for counters and models)

    def metrics(self, inferences: int) -> dict[str, Any]:
        return {"energy_mj": self.energy_mj, "energy_mj_per_inference": self.energy_mj / inferences,
                "power_mw_mean": self.power_mw_mean, "energy_source": self.source}


class EnergyMeter(ABC):
    name: ClassVar[str]
    modelled: ClassVar[bool] = False

    def runner_args(self) -> list[str]:
        """Arguments that make the on-device runner read this meter (device-side meters)."""
        return []

    def device_files(self) -> list[str]:
        """Files on the device the runner will read for this meter (checked before measuring)."""
        return []

    def wants_marks(self) -> bool:
        return False

    def start(self) -> None:
        """Called just before the runner starts (host-side meters begin sampling)."""

    def stop(self) -> None:
        """Called once the runner has exited."""

    def mark(self, name: str) -> None:
        """The runner reported a window edge ("window-start" / "window-end") just now."""

    @abstractmethod
    def read(self, window: Window) -> EnergyReading:
        """Energy of exactly the timed window; raises DeviceError when the meter gave nothing usable."""


class HostSampledMeter(EnergyMeter):
    """A meter this machine samples itself; the window comes from the runner's streamed marks."""

    def __init__(self, sample_w: Callable[[], float], period_s: float = 0.002,
                 clock_ns: Callable[[], int] = time.monotonic_ns) -> None:
        self._sample_w, self._period_s, self._clock = sample_w, period_s, clock_ns
        self._samples: list[tuple[int, float]] = []
        self._marks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def wants_marks(self) -> bool:
        return True

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                self._samples.append((self._clock(), float(self._sample_w())))
                self._stop.wait(self._period_s)
        except (OSError, RuntimeError, ValueError) as e:  # reported by read(), not lost
            self._error = e

    def start(self) -> None:
        self._samples, self._marks, self._error = [], {}, None
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"{self.name}-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def mark(self, name: str) -> None:
        self._marks[name] = self._clock()

    def read(self, window: Window) -> EnergyReading:
        if self._error is not None:
            raise DeviceError(f"{self.name} meter failed while sampling: {self._error}",
                              "check the meter's connection, or set [energy] meter = \"none\"")
        t0, t1 = self._marks.get("window-start"), self._marks.get("window-end")
        if t0 is None or t1 is None:
            raise DeviceError(f"{self.name} meter: the runner's window marks never arrived",
                              "the runner must be started with --marks for a host-side meter")
        power_w = mean_power_w(self._samples, t0, t1)
        inside = sum(1 for t, _ in self._samples if t0 <= t <= t1)
        energy_j = power_w * window.duration_s
        return EnergyReading(energy_mj=energy_j * 1e3, power_mw_mean=power_w * 1e3, source=self.name, samples=inside)


def integrate_device_samples(window: Window, raw_to_w: float, source: str) -> EnergyReading:
    e = window.device_energy or {}
    if e.get("kind") != "power_samples" or window.start_ns is None or window.end_ns is None:
        raise DeviceError(f"{source}: the runner returned no power samples",
                          "check that the power file in the device profile exists on the device")
    samples = [(int(t), float(v) * raw_to_w) for t, v in e.get("samples", [])]
    joules = integrate_j(samples, window.start_ns, window.end_ns)
    inside = sum(1 for t, _ in samples if window.start_ns <= t <= window.end_ns)
    return EnergyReading(energy_mj=joules * 1e3, power_mw_mean=joules / window.duration_s * 1e3,
                         source=source, samples=inside)
