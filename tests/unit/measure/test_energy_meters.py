from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from edgekit.core.errors import DeviceError, ProfileError, UsageError
from edgekit.core.profile import load_profile, parse_profile
from edgekit.measure.energy.base import HostSampledMeter, Window
from edgekit.measure.energy.factory import meter_for
from edgekit.measure.energy.ina219 import Ina219HwmonMeter, Ina219PiMeter
from edgekit.measure.energy.integrate import integrate_j, mean_power_w
from edgekit.measure.energy.joulescope import JoulescopeMeter
from edgekit.measure.energy.modelled import ModelledMeter
from edgekit.measure.energy.rapl import RaplMeter

S = 1_000_000_000  # ns per second


def test_integrate_constant_and_ramp_exactly():
    flat = [(0, 2.0), (S, 2.0), (3 * S, 2.0)]
    assert integrate_j(flat, S // 2, 2 * S) == pytest.approx(3.0)  # 2 W x 1.5 s
    ramp = [(0, 0.0), (2 * S, 4.0)]  # P(t) = 2 t
    assert integrate_j(ramp, S, 2 * S) == pytest.approx(3.0)  # t^2 from 1 to 2
    assert mean_power_w(ramp, S, 2 * S) == pytest.approx(3.0)
    assert mean_power_w(ramp, S, S) == pytest.approx(2.0)


def test_samples_must_cover_the_window():
    with pytest.raises(DeviceError, match="do not cover"):
        integrate_j([(S, 1.0), (2 * S, 1.0)], 0, S)
    with pytest.raises(DeviceError, match="no samples"):
        integrate_j([], 0, 1)


def test_rapl_counter_difference_and_unreadable_counter():
    m = RaplMeter("/sys/class/powercap/intel-rapl:0")
    assert m.runner_args()[1] == "/sys/class/powercap/intel-rapl:0/energy_uj"
    w = Window(duration_s=0.25, inferences=10, device_energy={"kind": "counter_uj", "start": 5_000, "end": 130_000})
    r = m.read(w)
    assert (r.energy_mj, r.power_mw_mean, r.source) == (125.0, 500.0, "rapl")
    with pytest.raises(DeviceError, match="not readable"):
        m.read(Window(0.1, 1, device_energy={"kind": "counter_uj", "start": None, "end": None}))
    with pytest.raises(DeviceError, match="range is unknown"):
        m.read(Window(0.1, 1, device_energy={"kind": "counter_uj", "start": 10, "end": 5, "wrap": None}))


def test_hwmon_meter_integrates_device_samples_between_window_edges():
    samples = [(0, 1_000_000), (S, 3_000_000), (2 * S, 3_000_000)]  # uW; ramps 1 -> 3 W, then flat
    w = Window(duration_s=1.5, inferences=3, start_ns=S // 2, end_ns=2 * S, device_energy={"kind": "power_samples", "samples": samples})
    r = Ina219HwmonMeter("/sys/class/hwmon/hwmon0").read(w)
    assert r.energy_mj == pytest.approx((2.0 + 3.0) / 2 * 0.5 * 1e3 + 3.0 * 1.0 * 1e3)
    assert r.samples == 2
    with pytest.raises(DeviceError, match="no power samples"):
        Ina219HwmonMeter("/x").read(Window(1.0, 1, start_ns=0, end_ns=1, device_energy=None))


class _Clock:
    def __init__(self) -> None:
        self._t = itertools.count(0, 1_000_000)  # 1 ms per reading

    def __call__(self) -> int:
        return next(self._t)


def _wait_samples(meter: HostSampledMeter, n: int, within_s: float = 10.0) -> None:
    start = len(meter._samples)
    deadline = time.monotonic() + within_s
    while len(meter._samples) < start + n:
        if time.monotonic() > deadline:
            meter.stop()
            pytest.fail(f"the sampler took {len(meter._samples) - start} of {n} samples in {within_s} s "
                        f"(error: {meter._error})")
        time.sleep(0.001)


def test_host_sampled_meter_uses_the_marks_and_the_device_duration():
    meter = HostSampledMeter(lambda: 2.0, period_s=0.0005, clock_ns=_Clock())
    meter.name = "fake"
    meter.start()
    _wait_samples(meter, 3)
    meter.mark("window-start")
    _wait_samples(meter, 5)
    meter.mark("window-end")
    _wait_samples(meter, 3)
    meter.stop()
    r = meter.read(Window(duration_s=0.5, inferences=5))
    assert r.power_mw_mean == pytest.approx(2000.0) and r.energy_mj == pytest.approx(1000.0) and r.samples >= 5
    meter.start()
    meter.stop()
    with pytest.raises(DeviceError, match="marks never arrived"):
        meter.read(Window(duration_s=0.5, inferences=5))


def test_sampler_failures_are_reported_not_lost():
    def broken() -> float:
        raise OSError("i2c bus error")

    meter = HostSampledMeter(broken, period_s=0.001)
    meter.name = "fake"
    meter.start()
    meter.stop()
    with pytest.raises(DeviceError, match="i2c bus error"):
        meter.read(Window(1.0, 1))


def test_pi_ina219_meter_reads_milliwatts_from_the_package_api():
    class FakeIna:
        def power(self) -> float:
            return 1500.0  # mW

    meter = Ina219PiMeter(0.1, device=FakeIna(), period_s=0.0005)
    meter.start()
    _wait_samples(meter, 2)
    meter.mark("window-start")
    _wait_samples(meter, 2)
    meter.mark("window-end")
    _wait_samples(meter, 2)
    meter.stop()
    r = meter.read(Window(duration_s=2.0, inferences=1))
    assert (r.power_mw_mean, r.energy_mj, r.source) == (pytest.approx(1500.0), pytest.approx(3000.0), "ina219-pi")


def test_joulescope_meter_with_the_statistics_callback_api():
    class FakeJs:
        serial_number = "002345"

        def __init__(self) -> None:
            self.calls: list[str] = []
            self.cb = None

        def open(self):
            self.calls.append("open")

        def close(self):
            self.calls.append("close")

        def parameter_set(self, name, value):
            self.calls.append(f"{name}={value}")

        def statistics_callback_register(self, cb, source=None):
            self.cb = cb

        def statistics_callback_unregister(self, cb, source=None):
            self.cb = None

    dev = FakeJs()
    meter = JoulescopeMeter("002345", scan=lambda config: [dev])

    def block(watts: float) -> None:
        dev.cb({"signals": {"power": {"avg": {"value": watts, "units": "W"}}}})
        time.sleep(0.002)

    meter.start()
    block(0.4)
    meter.mark("window-start")
    block(0.4)
    block(0.4)
    meter.mark("window-end")
    block(0.4)
    meter.stop()
    assert dev.calls == ["open", "reduction_frequency=50 Hz", "close"] and dev.cb is None
    r = meter.read(Window(duration_s=3.0, inferences=30))
    assert (r.power_mw_mean, r.energy_mj, r.source) == (pytest.approx(400.0), pytest.approx(1200.0), "joulescope")
    with pytest.raises(DeviceError, match="found 0 Joulescope"):
        JoulescopeMeter("999", scan=lambda config: [dev])


def test_modelled_meter_is_labelled_and_needs_a_count():
    m = ModelledMeter(0.33)
    r = m.read(Window(duration_s=0.02, inferences=2, instructions=1_000_000))
    assert r.energy_mj == pytest.approx(2 * 1_000_000 * 0.33e-6) and r.source == "modelled" and m.modelled
    with pytest.raises(UsageError, match="instruction count"):
        m.read(Window(0.02, 2))


def test_meter_for_follows_the_profiles():
    assert isinstance(meter_for(load_profile("rpi4")), Ina219HwmonMeter)
    assert meter_for(load_profile("qemu-m4")).nj_per_instruction == 0.33
    assert meter_for(load_profile("rpi5")) is None
    base = {"name": "n", "kind": "linux", "cpu": "c", "ram_bytes": 1, "flash_bytes": 1, "emulated": False,
            "timing": "wallclock", "transport": {"kind": "ssh", "host": "h", "user": "u"}}
    assert isinstance(meter_for(parse_profile(Path("x.toml"), {**base, "energy": {"meter": "rapl"}})), RaplMeter)
    with pytest.raises(ProfileError, match="ina219_hwmon"):
        meter_for(parse_profile(Path("x.toml"), {**base, "energy": {"meter": "ina219"}}))
