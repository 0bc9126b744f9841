"""Compile a generated library: host executables for verification and timing, and Cortex-M
objects (arm-none-eabi-gcc) to check that the sources build warning-free for a core."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgekit.codegen.emit import template
from edgekit.core.errors import BuildError, ToolMissingError, UsageError

WARNINGS = ("-Wall", "-Wextra", "-Werror")
KERNELS = ("portable", "cmsis-nn")
CORTEX_M = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(f"{name} not found on PATH", f"install {name} (see scripts/setup.sh)")
    return path


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[:300])
        raise BuildError(f"{what} failed: {first}", "the full compiler output: " + " ".join(cmd[:3]) + " ...")


def library_sources(lib_dir: Path, name: str, kernels: str) -> list[Path]:
    if kernels not in KERNELS:
        raise UsageError(f"unknown kernels {kernels!r}", "use portable or cmsis-nn")
    srcs = [lib_dir / f"{name}.c", lib_dir / f"{name}_weights.c"]
    for src in sorted((lib_dir / "kernels" / "portable").glob("*.c")):
        alt = lib_dir / "kernels" / "cmsis_nn" / src.name
        srcs.append(alt if kernels == "cmsis-nn" and alt.exists() else src)
    return srcs


def check_cmsis_nn_path(path: str | Path | None) -> Path:
    if not path:
        raise UsageError("--kernels cmsis-nn needs CMSIS_NN_PATH (a checkout of ARM-software/CMSIS-NN)",
                         "set CMSIS_NN_PATH=/path/to/CMSIS-NN")
    p = Path(path)
    if not (p / "Include" / "arm_nnfunctions.h").is_file():
        raise UsageError(f"CMSIS_NN_PATH={p} is not a CMSIS-NN checkout (no Include/arm_nnfunctions.h)",
                         "point CMSIS_NN_PATH at the repository root")
    return p


def cmsis_nn_library(cmsis: Path, compiler: str, flags: tuple[str, ...]) -> Path:
    """CMSIS-NN compiled once per (checkout, compiler, flags) into a cached static library."""
    key = hashlib.sha256("\0".join([str(cmsis.resolve()), compiler, *flags]).encode()).hexdigest()[:16]
    cache = Path(tempfile.gettempdir()) / f"edgekit-cmsis-nn-{key}"
    lib = cache / "libcmsis-nn.a"
    if lib.exists():
        return lib
    objs_dir = cache / "obj"
    objs_dir.mkdir(parents=True, exist_ok=True)
    objs = []
    for src in sorted((cmsis / "Source").glob("*/*.c")):
        if src.stem.endswith(("_f16", "_f32", "_flt")):   # integer kernels only
            continue
        obj = objs_dir / (src.parent.name + "_" + src.stem + ".o")
        _run([compiler, *flags, f"-I{cmsis / 'Include'}", "-c", str(src), "-o", str(obj)], f"compiling {src.name}")
        objs.append(str(obj))
    tmp = cache / "libcmsis-nn.a.tmp"
    _run(["ar", "rcs", str(tmp), *objs], "archiving CMSIS-NN")
    tmp.replace(lib)
    return lib


@dataclass(frozen=True)
class HostRunner:
    path: Path
    kernels: str


def build_host_runner(lib_dir: Path, name: str, work_dir: Path, kernels: str = "portable",
                      cmsis_nn_path: str | Path | None = None, opt: str = "-O2",
                      trace: bool = True) -> HostRunner:
    """Executable: the library's sources + a driver that streams inputs/outputs (host gcc)."""
    cc = _tool("gcc")
    work_dir.mkdir(parents=True, exist_ok=True)
    driver = work_dir / "ek_host_driver.c"
    driver.write_text(template("host_driver.c.tmpl").substitute(name=name, NAME=name.upper()))
    flags = ["-std=c99", *opt.split(), *WARNINGS, f"-I{lib_dir}", f"-I{lib_dir / 'kernels'}"]
    extra: list[str] = []
    if trace:
        hook = work_dir / "ek_host_trace.h"
        hook.write_text(template("host_trace.h.tmpl").substitute())
        flags += ["-include", str(hook)]
    if kernels == "cmsis-nn":
        cmsis = check_cmsis_nn_path(cmsis_nn_path)
        flags += [f"-I{cmsis / 'Include'}", "-DEK_KERNELS_CMSIS_NN"]
        extra.append(str(cmsis_nn_library(cmsis, cc, ("-std=c99", *opt.split()))))
    exe = work_dir / f"{name}_{kernels}{'_trace' if trace else ''}"
    srcs = [str(s) for s in library_sources(lib_dir, name, kernels)] + [str(driver)]
    _run([cc, *flags, *srcs, *extra, "-lm", "-o", str(exe)], f"building {name} for the host ({kernels})")
    return HostRunner(exe, kernels)


def cross_compile(lib_dir: Path, name: str, cpu: str, work_dir: Path, kernels: str = "portable",
                  cmsis_nn_path: str | Path | None = None, opt: str = "-O2") -> list[Path]:
    """Compile every library source for ``cpu`` with arm-none-eabi-gcc, -Wall -Wextra -Werror."""
    cc = _tool("arm-none-eabi-gcc")
    out = work_dir / f"{kernels}-{cpu}"
    out.mkdir(parents=True, exist_ok=True)
    flags = ["-std=c99", opt, f"-mcpu={cpu}", "-mthumb", *WARNINGS, f"-I{lib_dir}", f"-I{lib_dir / 'kernels'}"]
    if kernels == "cmsis-nn":
        cmsis = check_cmsis_nn_path(cmsis_nn_path)
        flags += [f"-I{cmsis / 'Include'}", "-DEK_KERNELS_CMSIS_NN"]
    objs = []
    for src in library_sources(lib_dir, name, kernels):
        obj = out / (src.parent.name + "_" + src.stem + ".o")
        _run([cc, *flags, "-c", str(src), "-o", str(obj)], f"compiling {src.name} for {cpu}")
        objs.append(obj)
    return objs
