"""`edgekit devices list | show ID | check`: device profiles are data; this reads and validates them."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from edgekit.cli.base import Command, Group, print_json
from edgekit.core.errors import EdgekitError, ProfileError
from edgekit.core.profile import DeviceProfile, default_profiles_dir, list_profiles, load_profile, load_profile_file

# host programs each kind of device needs on this machine, beyond the Python packages
_HOST_TOOLS = {
    ("mcu", "qemu"): ("arm-none-eabi-gcc", "qemu-system-arm"),
    ("mcu", "pyocd"): ("arm-none-eabi-gcc",),
    ("mcu", "openocd"): ("arm-none-eabi-gcc", "openocd"),
    ("linux", ""): (),
    ("android", ""): ("adb",),
}


def _dir_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profiles", type=Path, default=None, metavar="DIR",
                   help=f"profile directory (default: {default_profiles_dir()}, or $EDGEKIT_PROFILES)")


def host_tools(profile: DeviceProfile) -> tuple[str, ...]:
    method = profile.flash.get("method", "") if profile.kind == "mcu" else ""
    return _HOST_TOOLS[(profile.kind, method)]


class _List(Command):
    name = "list"
    help = "list the device profiles"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _dir_arg(parser)
        parser.add_argument("--json", action="store_true", help="print JSON")

    def invoke(self, args: argparse.Namespace) -> int:
        rows = [load_profile_file(p).summary() for p in list_profiles(args.profiles)]
        if not rows:
            raise ProfileError(f"no device profiles in {args.profiles or default_profiles_dir()}",
                               "point --profiles at a folder of *.toml profiles")
        if args.json:
            print_json(rows)
            return 0
        from rich.console import Console
        from rich.table import Table

        t = Table(title="edgekit devices")
        for col in ("id", "kind", "cpu", "clock", "RAM", "flash", "timing", "emulated", "transport"):
            t.add_column(col)
        for r in rows:
            clock = "varies" if r["clock_mhz"] is None else f"{r['clock_mhz']:g} MHz"
            t.add_row(r["id"], r["kind"], r["cpu"], clock, f"{r['ram_kib']:,} KiB", f"{r['flash_kib']:,} KiB",
                      r["timing"], "yes" if r["emulated"] else "no", r["transport"])
        Console(width=140).print(t)
        return 0


class _Show(Command):
    name = "show"
    help = "show one device profile in full"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("device", help="device id (file stem) or path to a .toml profile")
        _dir_arg(parser)
        parser.add_argument("--json", action="store_true", help="print JSON")

    def invoke(self, args: argparse.Namespace) -> int:
        p = load_profile(args.device, args.profiles)
        data = {**p.summary(), "clock_hz": p.clock_hz, "ram_bytes": p.ram_bytes, "flash_bytes": p.flash_bytes,
                "path": str(p.path), **p.extra, "firmware": p.firmware, "flash": p.flash,
                "transport": p.transport, "energy": p.energy}
        if args.json:
            print_json(data)
            return 0
        for key, value in data.items():
            if isinstance(value, dict):
                print(f"[{key}]")
                for k, v in value.items():
                    print(f"  {k} = {v!r}")
            else:
                print(f"{key} = {value!r}")
        return 0


class _Check(Command):
    name = "check"
    help = "validate every profile (or the given ones) and report missing host tools"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("devices", nargs="*", help="device ids or .toml paths (default: all)")
        _dir_arg(parser)

    def invoke(self, args: argparse.Namespace) -> int:
        paths = [load_profile(d, args.profiles).path for d in args.devices] or list_profiles(args.profiles)
        bad = 0
        for path in paths:
            try:
                prof = load_profile_file(path)
            except EdgekitError as e:
                bad += 1
                print(f"FAIL {Path(path).stem}: {e.message}")
                continue
            missing = [t for t in host_tools(prof) if shutil.which(t) is None]
            board = prof.firmware.get("board")
            if board and not (Path(__file__).resolve().parents[2] / "firmware" / "boards" / board).is_dir():
                missing.append(f"firmware/boards/{board}")
            state = "ok" if not missing else "ok (schema); not runnable here: missing " + ", ".join(missing)
            print(f"ok   {prof.id}: {state}" if missing else f"ok   {prof.id}")
        if bad:
            sys.stdout.flush()
            raise ProfileError(f"{bad} of {len(paths)} device profiles are invalid", "fix the files named above")
        return 0


class DevicesCommand(Group):
    name = "devices"
    help = "device profiles: list, show, check"
    children = (_List, _Show, _Check)
