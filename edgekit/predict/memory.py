"""RAM and flash of a model on a microcontroller: exact, from the code generator's static memory
plan, never learned. The arena (activations and scratch) and the weights come from
edgekit.codegen for the profile's core; with ``build_dir`` the firmware image is also linked
(nothing runs) and its section sizes give the board's total flash and RAM.
"""

from __future__ import annotations

from pathlib import Path

from edgekit.core.profile import DeviceProfile
from edgekit.tflite.ir import Graph


def mcu_memory(graph: Graph, profile: DeviceProfile, build_dir: Path | None = None) -> dict[str, int]:
    from edgekit.codegen.generate import CodegenOptions, generate

    gen = generate(graph, CodegenOptions(cpu=profile.cpu))
    out = {"arena_bytes": int(gen.memory.plan.arena_bytes),
           "weights_bytes": int(sum(c.nbytes for layer in gen.model.layers for c in layer.consts))}
    if build_dir is not None:
        import shutil

        from edgekit.codegen.emit import write_library
        from edgekit.targets.mcu import FirmwareOptions, build_firmware

        lib = build_dir / f"lib-{profile.cpu}"
        if lib.is_dir():   # a library of another model: the build compiles every source it finds
            shutil.rmtree(lib)
        write_library(gen.rendered, lib, gen.name)
        image = build_firmware(profile, lib, gen.name, build_dir / f"fw-{profile.firmware['board']}-portable",
                               FirmwareOptions())
        out.update(flash_bytes=int(image.memory.flash_bytes), ram_bytes=int(image.memory.ram_bytes))
        if image.weights_bytes is not None:
            out["weights_bytes_linked"] = int(image.weights_bytes)
    return out
