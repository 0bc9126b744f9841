"""One lowering per TFLite operator family; each module registers its opcodes with ``@lowering``.

Adding an operator = a module here (the lowering and its ``KernelSpec``) + its C kernel in
``kernels/portable`` (+ optionally a CMSIS-NN adapter of the same name in ``kernels/cmsis_nn``).
Modules are discovered by ``load_lowerings``; nothing else needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from edgekit.codegen.layer import KernelSpec, Layer

Lowering = Callable[..., Layer]
LOWERINGS: dict[str, Lowering] = {}


def lowering(*opcodes: str) -> Callable[[Lowering], Lowering]:
    def register(fn: Lowering) -> Lowering:
        for code in opcodes:
            if code in LOWERINGS:
                raise RuntimeError(f"two lowerings for {code}")
            LOWERINGS[code] = fn
        return fn
    return register


def _modules() -> list:
    return [importlib.import_module(f"{__name__}.{mod.name}") for mod in pkgutil.iter_modules(__path__)
            if not mod.name.startswith("_") and mod.name != "common"]


def load_lowerings() -> dict[str, Lowering]:
    _modules()
    return LOWERINGS


def kernel_specs_of_file(file: str) -> list[KernelSpec]:
    """Every KernelSpec whose C file is ``file``: a kernel file may define functions for several
    parameter structs (ek_activations.c), and compiles only when all of them are declared."""
    found: dict[str, KernelSpec] = {}
    for mod in _modules():
        for value in vars(mod).values():
            if isinstance(value, KernelSpec) and value.file == file:
                found.setdefault(value.struct, value)
    return list(found.values())
