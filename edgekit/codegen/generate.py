"""`edgekit codegen`: .tflite -> self-contained C library (read, lower, plan, render, write)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgekit.codegen.arena import MemoryPlan, plan_memory
from edgekit.codegen.emit import GeneratedLibrary, c_identifier, render_library, write_library
from edgekit.codegen.lower import LoweredModel, lower_graph
from edgekit.codegen.ops.common import CMSIS_FAMILIES
from edgekit.codegen.rewrite import rewrite_graph
from edgekit.core.errors import UsageError
from edgekit.tflite.ir import Graph
from edgekit.tflite.reader import read_tflite

# CMSIS-NN code path per core: scratch is sized for these (the plan covers all when cpu is "any").
CPU_FAMILIES: dict[str, tuple[str, ...]] = {
    "any": CMSIS_FAMILIES, "host": ("none",), "cortex-m0": ("none",), "cortex-m0plus": ("none",),
    "cortex-m3": ("none",), "cortex-m4": ("dsp",), "cortex-m7": ("dsp",), "cortex-m33": ("dsp",),
    "cortex-m35p": ("dsp",), "cortex-m55": ("mve",), "cortex-m85": ("mve",),
}


@dataclass(frozen=True)
class CodegenOptions:
    name: str | None = None       # C prefix of the API; default: the model file's stem
    cpu: str = "any"              # core whose CMSIS-NN scratch needs the plan must cover
    inplace: bool = True          # let depthwise / element-wise layers overwrite their input
    alignment: int = 4            # byte alignment of every arena buffer (int32 scratch, float I/O)


@dataclass(frozen=True)
class Generated:
    model: LoweredModel
    memory: MemoryPlan
    name: str
    rendered: dict[str, str]


def generate(graph: Graph, options: CodegenOptions | None = None, model_file: str = "") -> Generated:
    """Everything in memory; raises UnsupportedModelError listing every refused operator."""
    options = options or CodegenOptions()
    families = CPU_FAMILIES.get(options.cpu)
    if families is None:
        raise UsageError(f"unknown --cpu {options.cpu!r}", f"use one of: {', '.join(CPU_FAMILIES)}")
    name = c_identifier(options.name or graph.name)
    model = lower_graph(rewrite_graph(graph), families)
    memory = plan_memory(model, alignment=options.alignment, inplace=options.inplace)
    rendered = render_library(model, memory, name, model_file or graph.name + ".tflite")
    return Generated(model, memory, name, rendered)


def codegen(model_path: str | Path, out_dir: str | Path,
            options: CodegenOptions | None = None) -> tuple[Generated, GeneratedLibrary]:
    path = Path(model_path)
    graph = read_tflite(path)
    gen = generate(graph, options, path.name)
    return gen, write_library(gen.rendered, Path(out_dir), gen.name)
