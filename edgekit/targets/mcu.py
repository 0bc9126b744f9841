"""Microcontroller target: build firmware/ for a board profile around a generated C library,
read its memory from the ELF, and refuse a model that does not fit before anything is flashed.

The build is ``make -C firmware`` (the same command a user can type); the profile supplies the
board, -mcpu, float ABI, FPU and stack size, so a new board needs only its profile and its
firmware/boards/<board>/ folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edgekit.core.errors import BuildError, InputFileError, ResourceLimitError, ToolMissingError, UsageError
from edgekit.core.profile import DeviceProfile

KERNELS = ("portable", "cmsis-nn")
_FLASH_SECTIONS = (".vectors", ".text", ".rodata", ".ARM.extab", ".ARM.exidx", ".data")
_RAM_SECTIONS = (".data", ".bss", ".stack")


def firmware_root() -> Path:
    env = os.environ.get("EDGEKIT_FIRMWARE")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "firmware"


@dataclass(frozen=True)
class FirmwareOptions:
    per_layer: bool = False          # compile the per-layer timing hooks in
    kernels: str = "portable"        # portable | cmsis-nn
    cmsis_nn_path: str | None = None  # a CMSIS-NN checkout, for kernels = cmsis-nn
    opt: str = "-O2"                 # model library optimisation (the harness uses -Os)
    max_layers: int = 128            # per-layer stamp slots (at least the model's operator count)
    jobs: int = 2

    def __post_init__(self) -> None:
        if self.kernels not in KERNELS:
            raise UsageError(f"unknown kernels {self.kernels!r}", f"use one of {', '.join(KERNELS)}")
        if self.kernels == "cmsis-nn" and not self.cmsis_nn_path:
            raise UsageError("kernels cmsis-nn need a CMSIS-NN checkout",
                             "set CMSIS_NN_PATH=/path/to/CMSIS-NN (ARM-software/CMSIS-NN)")
        if self.max_layers < 1:
            raise UsageError("max_layers must be at least 1")


@dataclass(frozen=True)
class ElfMemory:
    sections: dict[str, int]         # allocated section -> bytes
    flash_bytes: int                 # text + rodata + data (its load image) + vectors/unwind tables
    ram_bytes: int                   # data + bss + stack (stack as reserved by the linker script)
    text_bytes: int
    rodata_bytes: int
    data_bytes: int
    bss_bytes: int
    stack_bytes: int


@dataclass(frozen=True)
class FirmwareImage:
    elf: Path
    build_id: str
    board: str
    model_name: str
    per_layer: bool
    kernels: str
    memory: ElfMemory
    weights_bytes: int | None        # rodata of <name>_weights.o (generated libraries), None otherwise


def parse_size_sysv(text: str) -> dict[str, int]:
    """``arm-none-eabi-size -A`` output -> {section: bytes} (a pure function of the text)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    if not out:
        raise BuildError("arm-none-eabi-size printed no sections", "check that the ELF file is a firmware image")
    return out


def memory_from_sections(sections: dict[str, int]) -> ElfMemory:
    flash = sum(sections.get(s, 0) for s in _FLASH_SECTIONS)
    ram = sum(sections.get(s, 0) for s in _RAM_SECTIONS)
    kept = {s: sections[s] for s in sections if s in _FLASH_SECTIONS + _RAM_SECTIONS}
    return ElfMemory(kept, flash, ram, sections.get(".text", 0) + sections.get(".vectors", 0),
                     sections.get(".rodata", 0), sections.get(".data", 0), sections.get(".bss", 0),
                     sections.get(".stack", 0))


def _tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(f"{name} is not installed", hint)
    return path


def _sections(path: Path) -> dict[str, int]:
    size = _tool("arm-none-eabi-size", "apt-get install binutils-arm-none-eabi (or run make setup)")
    proc = subprocess.run([size, "-A", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputFileError(f"cannot read {path}: {proc.stderr.strip()}", "pass a firmware ELF or object file")
    return parse_size_sysv(proc.stdout)


def elf_memory(elf: Path) -> ElfMemory:
    return memory_from_sections(_sections(elf))


def weights_bytes(build_dir: Path, name: str) -> int | None:
    """Constant data of the generated <name>_weights.c as compiled (its .rodata sections)."""
    obj = build_dir / "obj" / "model" / f"{name}_weights.o"
    if not obj.is_file():
        return None
    return sum(n for s, n in _sections(obj).items() if s.startswith(".rodata"))


def library_name(lib_dir: Path) -> str:
    """The C prefix of a generated library: the header that defines <NAME>_ARENA_BYTES."""
    if not lib_dir.is_dir():
        raise InputFileError(f"{lib_dir} is not a directory", "give the folder `edgekit codegen -o` wrote")
    for h in sorted(lib_dir.glob("*.h")):
        m = re.search(r"#define\s+([A-Z0-9_]+)_ARENA_BYTES\b", h.read_text(errors="replace"))
        if m and m.group(1).lower() == h.stem.lower():
            return h.stem
    raise InputFileError(f"{lib_dir} holds no generated model library (no <name>.h defining <NAME>_ARENA_BYTES)",
                         "run `edgekit codegen MODEL.tflite -o DIR` first")


def layer_slots(lib_dir: Path) -> int:
    """Stamp slots the per-layer hooks need: one past the highest layer index the code reports."""
    highest = -1
    for src in lib_dir.glob("*.c"):
        for m in re.finditer(r"\b(?:EK_RUN|EK_TRACE_LAYER|EK_LAYER_END)\(\s*(\d+)\s*,?", src.read_text(errors="replace")):
            highest = max(highest, int(m.group(1)))
    return max(highest + 1, 1)


def _make_args(profile: DeviceProfile | None, lib_dir: Path, name: str, build_dir: Path,
               options: FirmwareOptions) -> list[str]:
    args = [f"MODEL_DIR={lib_dir.resolve()}", f"MODEL={name}", f"BUILD_DIR={build_dir.resolve()}",
            f"KERNELS={options.kernels}", f"OPT={options.opt}"]
    if options.cmsis_nn_path:
        args.append(f"CMSIS_NN_PATH={Path(options.cmsis_nn_path).resolve()}")
    if profile is not None:
        fw = profile.firmware
        args += [f"BOARD={fw['board']}", f"MCPU={fw['mcpu']}", f"FLOAT_ABI={fw['float_abi']}",
                 f"FPU={fw.get('fpu', '')}", f"STACK_BYTES={fw['stack_bytes']}",
                 f"PER_LAYER={int(options.per_layer)}", f"MAX_LAYERS={options.max_layers}"]
    return args


def _run_make(args: list[str], what: str, jobs: int) -> None:
    make = _tool("make", "apt-get install make")
    proc = subprocess.run([make, "-C", str(firmware_root()), f"-j{jobs}", *args], capture_output=True, text=True)
    if proc.returncode == 0:
        return
    text = proc.stdout + proc.stderr
    over = re.search(r"region `(\w+)' overflowed by (\d+) bytes", text)
    if over:
        raise ResourceLimitError(f"{what}: the image overflows the board's {over.group(1)} region by "
                                 f"{int(over.group(2)):,} bytes", "pick a smaller model or a larger device")
    errors = [ln for ln in text.splitlines() if "error" in ln.lower()] or text.strip().splitlines()[-1:]
    raise BuildError(f"{what} failed: {errors[0].strip() if errors else proc.returncode}",
                     f"rerun by hand: make -C {firmware_root()} {' '.join(args)}")


def build_firmware(profile: DeviceProfile, lib_dir: Path, name: str, build_dir: Path,
                   options: FirmwareOptions = FirmwareOptions()) -> FirmwareImage:
    """Compile and link firmware.elf for ``profile``'s board (incremental: make decides)."""
    if profile.kind != "mcu":
        raise UsageError(f"device '{profile.id}' is not a microcontroller", "choose an mcu device profile")
    board = str(profile.firmware["board"])
    if not (firmware_root() / "boards" / board / "board.mk").is_file():
        raise BuildError(f"{profile.path}: board '{board}' has no folder firmware/boards/{board}",
                         "add the board port or fix [firmware].board")
    _tool("arm-none-eabi-gcc", "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi (or run make setup)")
    _run_make(_make_args(profile, lib_dir, name, build_dir, options), f"building {name} firmware for {board}",
              options.jobs)
    elf = build_dir / "firmware.elf"
    build_id = (build_dir / "build_id.txt").read_text().strip()
    return FirmwareImage(elf, build_id, board, name, options.per_layer, options.kernels, elf_memory(elf),
                         weights_bytes(build_dir, name))


def build_host_runner(lib_dir: Path, name: str, build_dir: Path, options: FirmwareOptions = FirmwareOptions()) -> Path:
    """The same library built with the host compiler (firmware/host/ek_host_runner.c drives it)."""
    _run_make(["host", *_make_args(None, lib_dir, name, build_dir, options)], f"building {name} for the host",
              options.jobs)
    return build_dir / "host_runner"


def _kb(n: int) -> str:
    return f"{n:,} bytes ({n / 1024:.1f} KiB)"


def precheck_fits(profile: DeviceProfile, name: str, weights_bytes: int, arena_bytes: int, input_bytes: int) -> None:
    """Refuse before building when even the lower bounds exceed the profile (weights alone in
    flash; arena + stack + staged inputs in RAM)."""
    stack = int(profile.firmware["stack_bytes"])
    ram_min = arena_bytes + stack + input_bytes
    if weights_bytes > profile.flash_bytes:
        raise ResourceLimitError(f"{name} needs at least {_kb(weights_bytes)} of flash for its weights; "
                                 f"{profile.id} has {_kb(profile.flash_bytes)}", "pick a smaller model or a larger device")
    if ram_min > profile.ram_bytes:
        raise ResourceLimitError(f"{name} needs at least {_kb(ram_min)} of RAM (arena {arena_bytes:,} + stack "
                                 f"{stack:,} + staged inputs {input_bytes:,}); {profile.id} has {_kb(profile.ram_bytes)}",
                                 "pick a smaller model or a larger device")


def check_fits(profile: DeviceProfile, image: FirmwareImage, input_bytes: int) -> None:
    """Refuse an image whose flash or RAM (data + bss + stack + staged inputs) exceeds the profile."""
    m = image.memory
    if m.flash_bytes > profile.flash_bytes:
        raise ResourceLimitError(f"{image.model_name} firmware needs {_kb(m.flash_bytes)} of flash (text {m.text_bytes:,}"
                                 f" + rodata {m.rodata_bytes:,} + data {m.data_bytes:,}); {profile.id} has "
                                 f"{_kb(profile.flash_bytes)}", "pick a smaller model or a larger device")
    need = m.ram_bytes + input_bytes
    if need > profile.ram_bytes:
        raise ResourceLimitError(f"{image.model_name} firmware needs {_kb(need)} of RAM (data {m.data_bytes:,} + bss "
                                 f"{m.bss_bytes:,} + stack {m.stack_bytes:,} + staged inputs {input_bytes:,}); "
                                 f"{profile.id} has {_kb(profile.ram_bytes)}",
                                 "pick a smaller model or a larger device, or lower [firmware].stack_bytes")
