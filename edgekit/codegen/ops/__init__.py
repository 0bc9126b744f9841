"""One lowering per TFLite operator family; each module registers its opcodes with ``@lowering``.

Adding an operator = a module here (the lowering and its ``KernelSpec``) + its C kernel in
``kernels/portable`` (+ optionally a CMSIS-NN adapter of the same name in ``kernels/cmsis_nn``).
Modules are discovered by ``load_lowerings``; nothing else needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from edgekit.codegen.layer import Layer

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


def load_lowerings() -> dict[str, Lowering]:
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_") and mod.name != "common":
            importlib.import_module(f"{__name__}.{mod.name}")
    return LOWERINGS
