"""Render a lowered, planned model as a C library: <name>.h/.c, weights, kernels, build files.

Everything is rendered in memory first and written only at the end, so a failure leaves no
partial output."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from importlib import metadata
from importlib.resources import files
from pathlib import Path

import numpy as np

from edgekit.codegen.arena import MemoryPlan
from edgekit.codegen.layer import CTYPES, ConstArray, KernelSpec, Layer
from edgekit.codegen.lower import LoweredModel
from edgekit.codegen.ops import kernel_specs_of_file
from edgekit.core.artifact import atomic_write_text
from edgekit.tflite.ir import Tensor

_PKG = files("edgekit.codegen")


def edgekit_version() -> str:
    try:
        return metadata.version("edgekit")
    except metadata.PackageNotFoundError:
        return "0+unknown"


class _Template(string.Template):
    delimiter = "@@"


def template(name: str) -> _Template:
    """A file of templates/ with @@{placeholders}."""
    return _Template((_PKG / "templates" / name).read_text())


def c_identifier(name: str) -> str:
    ident = re.sub(r"[^0-9a-zA-Z_]", "_", name).strip("_").lower() or "model"
    return ident if not ident[0].isdigit() else "m_" + ident


@dataclass(frozen=True)
class GeneratedLibrary:
    out_dir: Path
    name: str
    files: tuple[Path, ...]
    kernel_files: tuple[str, ...]          # portable kernel sources used
    cmsis_files: tuple[str, ...]           # of those, the ones with a CMSIS-NN adapter


def _format_values(values: np.ndarray, per_line: int = 20) -> str:
    if values.dtype.kind == "f":
        items = [repr(float(v)) + "f" for v in values.tolist()]
    else:
        items = [str(v) if v != -(1 << 31) else "(int32_t)-2147483647 - 1" for v in values.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n  ".join(lines)


def _array_definition(arr: ConstArray) -> str:
    n = max(int(arr.values.size), 1)
    vals = arr.values if arr.values.size else np.zeros(1, arr.values.dtype)
    return f"const {arr.ctype} {arr.name}[{n}] EK_ALIGN(16) = {{\n  {_format_values(vals)}\n}};\n"


def _c_value(value: object, ctype: str) -> str:
    if isinstance(value, ConstArray):
        return value.name
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(_c_value(v, ctype) for v in value) + "}"
    if isinstance(value, str):
        return value
    if ctype == "float":
        return f"{float(np.float32(value))!r}f"
    if ctype == "double":
        return repr(float(value))
    v = int(value)  # type: ignore[call-overload]
    return "(int32_t)-2147483647 - 1" if v == -(1 << 31) else str(v)


class _Emitter:
    def __init__(self, model: LoweredModel, memory: MemoryPlan, name: str) -> None:
        self.model, self.memory, self.name = model, memory, name
        self.graph = model.graph
        self.const_tensors: dict[int, ConstArray] = {}

    def tensor_ptr(self, i: int, out: bool) -> str:
        t = self.graph.tensors[i]
        ctype = CTYPES.get(t.dtype, "uint8_t")
        if t.is_variable:
            # persistent state, outside the arena; kernels update it (TFLite Micro ignores any
            # initial data a variable tensor carries and resets it to its zero point, as reset() does)
            return state_name(i)
        if t.is_constant:
            if i not in self.const_tensors:
                self.const_tensors[i] = ConstArray(f"T{i}", ctype, np.ascontiguousarray(t.data).reshape(-1))
            return self.const_tensors[i].name
        qual = "" if out else "const "
        return f"({qual}{ctype} *)A({self.memory.offset(i)})"

    def layer_params(self, layer: Layer) -> str:
        spec = layer.kernel
        assert spec is not None
        types = {re.sub(r"\[.*", "", n): t for t, n in spec.fields}
        items = [f".{k} = {_c_value(v, types[k].strip())}" for k, v in layer.params]
        lines, cur = [], ""
        for it in items:
            if cur and len(cur) + len(it) + 2 > 96:
                lines.append(cur + ",")
                cur = ""
            cur = f"{cur}, {it}" if cur else it
        lines.append(cur)
        body = "\n    ".join(lines)
        return f"static const {spec.struct} L{layer.op_index} = {{\n    {body}}};\n"

    def layer_call(self, layer: Layer) -> str:
        op = layer.op_index
        graph = self.graph
        inplace = op in self.memory.inplace
        notes = [f"{layer.macs:,} MACs"] if layer.macs else []
        if inplace:
            notes.append("in place")
        head = f"  /* op {op} {layer.opcode}: {layer.summary}{'; ' if notes else ''}{'; '.join(notes)} */\n"
        if layer.kernel is None:
            return head
        out = layer.outputs[0]
        t_out = graph.tensors[out]
        subs = {"p": f"L{op}", "out0": self.tensor_ptr(out, True)}
        for k, i in enumerate(layer.inputs):
            subs[f"in{k}"] = self.tensor_ptr(i, False)
        pre = ""
        if "{ins}" in layer.call:
            ptrs = ", ".join(f"(const void *){self.tensor_ptr(i, False)}" for i in layer.inputs)
            pre = f"  {{\n    const void *const ins[{len(layer.inputs)}] = {{{ptrs}}};\n"
            subs["ins"] = "ins"
        nbytes = self.memory.scratch_bytes.get(op, 0)
        subs["scratch"] = (f"ek_scratch_at(A({self.memory.scratch_offset(op)}), {nbytes})" if nbytes
                           else "ek_scratch_at((void *)0, 0)")
        call = layer.call.format(**subs)
        run = f"EK_RUN({op}, {call}, A({self.memory.offset(out)}), {t_out.nbytes});"
        if pre:
            return head + pre + "    " + run + "\n  }\n"
        return head + "  " + run + "\n"

    def io_doc(self) -> str:
        lines = []
        for kind, ids in (("Input", self.graph.inputs), ("Output", self.graph.outputs)):
            for k, i in enumerate(ids):
                t = self.graph.tensors[i]
                lines.append(f"/* {kind} {k}: \"{t.name}\", {t.dtype} [{', '.join(map(str, t.shape))}]"
                             f"{_quant_text(t)}, {t.nbytes} bytes */")
                if t.quant is not None and t.quant.scale.size == 1:
                    up = f"{self.name.upper()}_{kind.upper()}{k}"
                    lines.append(f"#define {up}_SCALE {float(t.quant.scale[0])!r}f")
                    lines.append(f"#define {up}_ZERO_POINT ({int(t.quant.zero_point[0])})")
        return "\n".join(lines) + "\n"


def state_name(i: int) -> str:
    return f"ek_state_T{i}"


def state_tensors(model: LoweredModel) -> list[Tensor]:
    """Variable tensors (LSTM / SVDF state) the layers read: they keep their value from one
    inference to the next, so they live in their own static buffers, not in the arena."""
    used = {i for layer in model.layers for i in layer.inputs}
    return [t for t in model.graph.tensors if t.is_variable and t.index in used]


def _state_code(states: list[Tensor], name: str) -> tuple[str, str, str]:
    """(definitions, reset body, first-invoke check) for the state buffers."""
    if not states:
        return "", "", ""
    defs, body = [], []
    for t in states:
        ctype = CTYPES.get(t.dtype, "uint8_t")
        n = max(t.num_elements, 1)
        defs.append(f"static {ctype} {state_name(t.index)}[{n}] EK_ALIGN(16);  /* \"{t.name}\", {t.dtype} "
                    f"[{', '.join(map(str, t.shape))}] */")
        # TFLite Micro resets int8 state to its zero point (the real value 0) and the rest to 0.
        zp = int(t.quant.zero_point[0]) if t.dtype == "int8" and t.quant is not None and t.quant.zero_point.size else 0
        body.append(f"  for (i = 0; i < {n}; ++i) {state_name(t.index)}[i] = {zp};")
    defs.append("static int ek_state_ready;")
    reset = "  int32_t i;\n" + "\n".join(body) + "\n  ek_state_ready = 1;\n"
    check = f"  if (!ek_state_ready) {name}_reset();\n"
    return "\n".join(defs) + "\n", reset, check


def _quant_text(t: Tensor) -> str:
    if t.quant is None or t.quant.scale.size != 1:
        return ""
    return f", scale {float(t.quant.scale[0]):.9g}, zero point {int(t.quant.zero_point[0])}"


def kernel_specs(model: LoweredModel) -> list[KernelSpec]:
    """The specs of every kernel file the model uses (all structs of a file: it needs them all)."""
    seen: dict[str, KernelSpec] = {}
    for layer in model.layers:
        if layer.kernel is not None and layer.kernel.struct not in seen:
            for spec in [layer.kernel] + kernel_specs_of_file(layer.kernel.file):
                seen.setdefault(spec.struct, spec)
    return list(seen.values())


def render_library(model: LoweredModel, memory: MemoryPlan, name: str, model_file: str) -> dict[str, str]:
    """All generated files, relative path -> text."""
    em = _Emitter(model, memory, name)
    graph = model.graph
    NAME = name.upper()
    params = "".join(em.layer_params(layer) for layer in model.layers if layer.kernel is not None)
    body = "".join(em.layer_call(layer) for layer in model.layers)
    specs = kernel_specs(model)
    kfiles = list(dict.fromkeys(s.file for s in specs))
    cmsis = [f for f in kfiles if any(s.cmsis_nn for s in specs if s.file == f)]
    consts = [c for layer in model.layers for c in layer.consts] + list(em.const_tensors.values())
    total_weights = sum(c.nbytes for c in consts)
    macs = sum(layer.macs for layer in model.layers)

    def offsets(ids: tuple[int, ...]) -> tuple[str, str]:
        if not ids:
            return "0", "0"
        return (", ".join(str(memory.offset(i)) for i in ids),
                ", ".join(str(graph.tensors[i].nbytes) for i in ids))

    states = state_tensors(model)
    state_defs, reset_body, state_check = _state_code(states, name)
    state_bytes = sum(t.nbytes for t in states)
    in_off, in_size = offsets(graph.inputs)
    out_off, out_size = offsets(graph.outputs)
    common = dict(name=name, NAME=NAME, version=edgekit_version(), model_file=model_file,
                  sha_short=graph.sha256[:16], arena_bytes=memory.plan.arena_bytes,
                  num_inputs=len(graph.inputs), num_outputs=len(graph.outputs), state_bytes=state_bytes,
                  portable_srcs=" ".join(kfiles), cmsis_adapted=" ".join(cmsis))
    out: dict[str, str] = {}
    out[f"{name}.h"] = template("model.h.tmpl").substitute(common, io_doc=em.io_doc())
    out[f"{name}.c"] = template("model.c.tmpl").substitute(
        common, num_layers=len(model.layers), macs=f"{macs:,}", lower_bound=memory.plan.lower_bound_bytes,
        weight_bytes=total_weights, num_inputs_or_1=max(len(graph.inputs), 1),
        num_outputs_or_1=max(len(graph.outputs), 1), input_offsets=in_off, input_sizes=in_size,
        output_offsets=out_off, output_sizes=out_size, params=params, body=body.rstrip("\n"),
        state_defs=state_defs, reset_body=reset_body or "  /* the model has no state */\n",
        state_check=state_check)
    decls = "".join(f"extern const {c.ctype} {c.name}[{max(int(c.values.size), 1)}];\n" for c in consts)
    guard = f"{NAME}_WEIGHTS_H"
    out[f"{name}_weights.h"] = (f"/* Constant data of {name} (flash), generated by edgekit. */\n#ifndef {guard}\n"
                                f"#define {guard}\n\n#include <stdint.h>\n\n{decls}\n#endif /* {guard} */\n")
    out[f"{name}_weights.c"] = (f"/* Constant data of {name}: {total_weights} bytes, generated by edgekit. */\n"
                                f"#include \"{name}_weights.h\"\n#include \"ek_kernels.h\"\n\n"
                                + "\n".join(_array_definition(c) for c in consts))
    ops_h = "".join(s.c_declarations() + "\n" for s in specs)
    out["kernels/ek_ops.h"] = ("/* Parameter structs and entry points of the kernels this model uses (generated). */\n"
                               "#ifndef EK_OPS_H\n#define EK_OPS_H\n\n#include \"ek_kernels.h\"\n\n"
                               "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n" + ops_h +
                               "#ifdef __cplusplus\n}\n#endif\n\n#endif /* EK_OPS_H */\n")
    out["kernels/ek_kernels.h"] = (_PKG / "kernels" / "ek_kernels.h").read_text()
    for f in kfiles:
        out[f"kernels/portable/{f}"] = (_PKG / "kernels" / "portable" / f).read_text()
    for f in cmsis:
        out[f"kernels/cmsis_nn/{f}"] = (_PKG / "kernels" / "cmsis_nn" / f).read_text()
    out["Makefile"] = template("Makefile.tmpl").substitute(common)
    out["CMakeLists.txt"] = template("CMakeLists.txt.tmpl").substitute(common)
    return out


def write_library(rendered: dict[str, str], out_dir: Path, name: str) -> GeneratedLibrary:
    # Kernel files left from an earlier generation into the same folder would be compiled too.
    for sub in ("kernels/portable", "kernels/cmsis_nn"):
        for old in sorted((out_dir / sub).glob("*.c")) if (out_dir / sub).is_dir() else ():
            if f"{sub}/{old.name}" not in rendered:
                old.unlink()
    paths = []
    for rel, text in rendered.items():
        p = out_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(p, text)
        paths.append(p)
    kfiles = tuple(rel.split("/")[-1] for rel in rendered if rel.startswith("kernels/portable/"))
    cfiles = tuple(rel.split("/")[-1] for rel in rendered if rel.startswith("kernels/cmsis_nn/"))
    return GeneratedLibrary(out_dir, name, tuple(paths), kfiles, cfiles)
