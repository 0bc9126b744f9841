"""Device profiles: one TOML per device in device_profiles/, the file name is the id.

The schema below is the single place that says which keys exist. Unknown keys and missing required
keys are errors that name the file and the key (no silent attributes, no defaults that disagree).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgekit.core.errors import ProfileError

DEVICE_KINDS = ("mcu", "linux", "android")
FLASH_METHODS = ("qemu", "pyocd", "openocd")
TRANSPORT_KINDS = ("serial", "ssh", "adb")
TIMING_METHODS = ("qemu-icount", "dwt-cyccnt", "wallclock")
ENERGY_METERS = ("none", "modelled", "ina219", "joulescope", "rapl")


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    required: bool
    doc: str
    choices: tuple[str, ...] = ()


# section name ("" = top level) -> key -> Key
_TOP: dict[str, Key] = {
    "name": Key(str, True, "human-readable name"),
    "kind": Key(str, True, "mcu | linux | android", DEVICE_KINDS),
    "cpu": Key(str, True, "core, e.g. cortex-m4, cortex-a72"),
    "clock_hz": Key(int, False, "core clock in Hz (datasheet max or as configured); required for mcu"),
    "ram_bytes": Key(int, True, "RAM the model may use (MCU: SRAM for arena + stack + data)"),
    "flash_bytes": Key(int, True, "non-volatile storage for code + weights (MCU) or disk budget"),
    "emulated": Key(bool, True, "true when the device is an emulator: every figure is labelled so"),
    "timing": Key(str, True, "how latency is measured on this device", TIMING_METHODS),
    "vendor": Key(str, False, "board or phone vendor"),
    "datasheet": Key(str, False, "where the clock/memory figures come from"),
    "cores": Key(int, False, "CPU cores usable by the runtime"),
    "fpu": Key(bool, False, "hardware floating point present"),
    "notes": Key(str, False, "free text"),
}
_SECTIONS: dict[str, dict[str, Key]] = {
    "firmware": {
        "board": Key(str, True, "firmware/boards/<board> to build"),
        "mcpu": Key(str, True, "-mcpu for arm-none-eabi-gcc"),
        "float_abi": Key(str, True, "soft | softfp | hard", ("soft", "softfp", "hard")),
        "fpu": Key(str, False, "-mfpu value when float_abi is not soft"),
        "stack_bytes": Key(int, True, "stack reserved by the linker script"),
        "code_base": Key(int, False, "address of the code region"),
        "ram_base": Key(int, False, "address of the data region"),
    },
    "flash": {
        "method": Key(str, True, "how an image is put on the board", FLASH_METHODS),
        "qemu_machine": Key(str, False, "qemu-system-arm -M value"),
        "qemu_cpu": Key(str, False, "qemu-system-arm -cpu value, when the machine needs one"),
        "pyocd_target": Key(str, False, "pyOCD target type"),
        "probe_uid": Key(str, False, "debug probe unique id; empty = the only one attached"),
        "openocd_command": Key(list, False, "argv template; {image} is replaced by the ELF path"),
    },
    "transport": {
        "kind": Key(str, True, "serial | ssh | adb", TRANSPORT_KINDS),
        "url": Key(str, False, "serial URL (pyserial), {port} filled in for emulators"),
        "port_glob": Key(str, False, "glob of the serial device of a real board, e.g. /dev/ttyACM*"),
        "baudrate": Key(int, False, "serial baud rate"),
        "host": Key(str, False, "SSH host"),
        "port": Key(int, False, "SSH port"),
        "user": Key(str, False, "SSH user"),
        "key_file": Key(str, False, "SSH private key file; empty = ssh-agent"),
        "known_hosts": Key(str, False, "known_hosts file used for strict host-key checking"),
        "workdir": Key(str, False, "remote directory the runner works in"),
        "python": Key(str, False, "remote Python interpreter"),
        "serial": Key(str, False, "adb device serial (or host:port)"),
    },
    "energy": {
        "meter": Key(str, True, "energy meter", ENERGY_METERS),
        "nj_per_instruction": Key(float, False, "modelled meter: energy per emulated instruction (nJ)"),
        "ina219_hwmon": Key(str, False, "sysfs hwmon directory of an INA219"),
        "shunt_ohms": Key(float, False, "INA219 shunt resistor"),
        "joulescope_serial": Key(str, False, "Joulescope serial number; empty = the only one"),
    },
}
_REQUIRED_SECTIONS: dict[str, tuple[str, ...]] = {
    "mcu": ("firmware", "flash", "transport"),
    "linux": ("transport",),
    "android": ("transport",),
}
_TRANSPORT_FOR_KIND = {"mcu": "serial", "linux": "ssh", "android": "adb"}
_REQUIRED_TRANSPORT_KEYS = {"serial": (), "ssh": ("host", "user"), "adb": ()}


@dataclass(frozen=True)
class DeviceProfile:
    id: str
    path: Path
    name: str
    kind: str
    cpu: str
    clock_hz: int | None
    ram_bytes: int
    flash_bytes: int
    emulated: bool
    timing: str
    extra: dict[str, Any] = field(default_factory=dict)  # optional top-level keys
    firmware: dict[str, Any] = field(default_factory=dict)
    flash: dict[str, Any] = field(default_factory=dict)
    transport: dict[str, Any] = field(default_factory=dict)
    energy: dict[str, Any] = field(default_factory=lambda: {"meter": "none"})

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "cpu": self.cpu,
            "clock_mhz": None if self.clock_hz is None else self.clock_hz / 1e6, "ram_kib": self.ram_bytes // 1024,
            "flash_kib": self.flash_bytes // 1024, "emulated": self.emulated,
            "timing": self.timing, "transport": self.transport.get("kind", ""),
        }


def default_profiles_dir() -> Path:
    env = os.environ.get("EDGEKIT_PROFILES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "device_profiles"


def _check(where: str, key: str, value: Any, spec: Key) -> None:
    types = spec.type if isinstance(spec.type, tuple) else (spec.type,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        names = "/".join(t.__name__ for t in types)
        raise ProfileError(f"{where}: key '{key}' must be {names}, got {type(value).__name__} {value!r}",
                           f"fix '{key}' in that file")
    if spec.choices and value not in spec.choices:
        raise ProfileError(f"{where}: key '{key}' = {value!r} is not one of {', '.join(spec.choices)}",
                           f"fix '{key}' in that file")
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise ProfileError(f"{where}: key '{key}' must not be negative", f"fix '{key}' in that file")


def _validate_table(where: str, table: dict[str, Any], schema: dict[str, Key]) -> None:
    for key, value in table.items():
        if key not in schema:
            raise ProfileError(f"{where}: unknown key '{key}'",
                               f"remove it or use one of: {', '.join(sorted(schema))}")
        _check(where, key, value, schema[key])
    for key, spec in schema.items():
        if spec.required and key not in table:
            raise ProfileError(f"{where}: missing required key '{key}' ({spec.doc})", f"add '{key}' to that file")


def parse_profile(path: Path, data: dict[str, Any]) -> DeviceProfile:
    where = str(path)
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    sections = {k: v for k, v in data.items() if isinstance(v, dict)}
    for name in sections:
        if name not in _SECTIONS:
            raise ProfileError(f"{where}: unknown section [{name}]", f"use one of: {', '.join(_SECTIONS)}")
    _validate_table(where, top, _TOP)
    for name, table in sections.items():
        _validate_table(f"{where} [{name}]", table, _SECTIONS[name])
    kind = top["kind"]
    for name in _REQUIRED_SECTIONS[kind]:
        if name not in sections:
            raise ProfileError(f"{where}: a '{kind}' device needs a [{name}] section", f"add [{name}]")
    if kind == "mcu" and "clock_hz" not in top:
        raise ProfileError(f"{where}: missing required key 'clock_hz' for an mcu device", "add 'clock_hz'")
    tkind = sections["transport"]["kind"]
    if tkind != _TRANSPORT_FOR_KIND[kind]:
        raise ProfileError(f"{where} [transport]: kind '{tkind}' does not fit a '{kind}' device",
                           f"use kind = \"{_TRANSPORT_FOR_KIND[kind]}\"")
    for key in _REQUIRED_TRANSPORT_KEYS[tkind]:
        if key not in sections["transport"]:
            raise ProfileError(f"{where} [transport]: missing required key '{key}' for {tkind}", f"add '{key}'")
    if kind == "mcu":
        method = sections["flash"]["method"]
        need = {"qemu": "qemu_machine", "pyocd": "pyocd_target", "openocd": "openocd_command"}[method]
        if need not in sections["flash"]:
            raise ProfileError(f"{where} [flash]: method '{method}' needs key '{need}'", f"add '{need}'")
        if top["emulated"] != (method == "qemu"):
            raise ProfileError(f"{where}: emulated = {top['emulated']} contradicts flash method '{method}'",
                               "emulated must be true exactly for QEMU boards")
    if top["emulated"] and top["timing"] == "dwt-cyccnt":
        raise ProfileError(f"{where}: an emulated device cannot report dwt-cyccnt cycles",
                           "use timing = \"qemu-icount\"")
    base = {k: top[k] for k in ("name", "kind", "cpu", "ram_bytes", "flash_bytes", "emulated", "timing")}
    base["clock_hz"] = top.get("clock_hz")
    extra = {k: v for k, v in top.items() if k not in base}
    return DeviceProfile(id=path.stem, path=path, **base, extra=extra,
                         firmware=dict(sections.get("firmware", {})), flash=dict(sections.get("flash", {})),
                         transport=dict(sections["transport"]),
                         energy=dict(sections.get("energy", {"meter": "none"})))


def load_profile_file(path: str | os.PathLike[str]) -> DeviceProfile:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ProfileError(f"cannot read device profile {p}: {e.strerror}", "check the path") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ProfileError(f"{p}: not valid TOML: {e}", "fix the syntax at the named line") from None
    return parse_profile(p, data)


def list_profiles(directory: Path | None = None) -> list[Path]:
    d = directory or default_profiles_dir()
    return sorted(d.glob("*.toml"))


def load_profile(device_id: str, directory: Path | None = None) -> DeviceProfile:
    """Load by id (file stem) or by a path to a .toml file."""
    if device_id.endswith(".toml") or os.sep in device_id:
        return load_profile_file(device_id)
    d = directory or default_profiles_dir()
    path = d / f"{device_id}.toml"
    if not path.is_file():
        known = ", ".join(p.stem for p in list_profiles(d)) or "(none)"
        raise ProfileError(f"unknown device '{device_id}'", f"use one of: {known}, or a path to a .toml profile")
    return load_profile_file(path)


def load_all(directory: Path | None = None) -> list[DeviceProfile]:
    return [load_profile_file(p) for p in list_profiles(directory)]
