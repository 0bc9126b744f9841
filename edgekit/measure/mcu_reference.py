"""Host references for a device's outputs: the TFLite Micro interpreter (LiteRT BUILTIN_REF when
TFLM cannot run the model), and the same C library built with the host compiler. Outputs are
compared as bytes; the first difference is named (input, output, byte, values)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from edgekit.core.errors import EdgekitError, VerificationError
from edgekit.targets.mcu import FirmwareOptions, build_host_runner
from edgekit.tflite.ir import Graph

_NP = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32, "float32": np.float32}


def host_build_outputs(lib_dir: Path, name: str, inputs: Sequence[Sequence[bytes]], output_bytes: Sequence[int],
                       build_dir: Path, options: FirmwareOptions) -> list[list[bytes]]:
    runner = build_host_runner(lib_dir, name, build_dir, options)
    proc = subprocess.run([str(runner), str(len(inputs))], input=b"".join(b"".join(x) for x in inputs),
                          capture_output=True)
    if proc.returncode != 0:
        raise VerificationError(f"the library built for the host failed: {proc.stderr.decode(errors='replace').strip()}",
                                "run `edgekit verify` on the model to find the failing layer")
    per = sum(output_bytes)
    if len(proc.stdout) != per * len(inputs):
        raise VerificationError(f"the host build wrote {len(proc.stdout)} bytes, expected {per * len(inputs)}")
    out = []
    for k in range(len(inputs)):
        rec, pos, outs = proc.stdout[k * per:(k + 1) * per], 0, []
        for n in output_bytes:
            outs.append(rec[pos:pos + n])
            pos += n
        out.append(outs)
    return out


def interpreter_outputs(tflite: Path, graph: Graph, inputs: Sequence[Sequence[bytes]]) -> tuple[str, list[list[bytes]]]:
    """(reference name, outputs) from TFLite Micro, or LiteRT BUILTIN_REF when TFLM cannot run it."""
    from edgekit.codegen.references import open_reference

    arena_hint = 4 * sum(t.nbytes for t in graph.tensors if not t.is_constant) + 65536
    try:
        ref = open_reference("tflm", tflite, arena_hint, len(graph.outputs))
    except EdgekitError:
        ref = open_reference("litert", tflite, arena_hint, len(graph.outputs))
    out = []
    for xs in inputs:
        arrays = []
        for tid, data in zip(graph.inputs, xs):
            t = graph.tensors[tid]
            arrays.append(np.frombuffer(data, _NP[t.dtype]).reshape(t.shape))
        out.append([np.ascontiguousarray(y).tobytes() for y in ref.run(arrays)])
    return ref.name, out


@dataclass(frozen=True)
class Mismatch:
    reference: str
    input_index: int
    output_index: int
    byte_offset: int
    device_value: int
    reference_value: int
    differing_bytes: int

    def describe(self) -> str:
        return (f"input {self.input_index}, output {self.output_index}: {self.differing_bytes} bytes differ from "
                f"{self.reference}, first at byte {self.byte_offset} (device byte 0x{self.device_value:02x}, "
                f"reference 0x{self.reference_value:02x})")


def first_mismatch(device: Sequence[Sequence[bytes]], references: dict[str, list[list[bytes]]]) -> Mismatch | None:
    for name, ref in references.items():
        for k, (got, want) in enumerate(zip(device, ref)):
            for i, (a, b) in enumerate(zip(got, want)):
                if a == b:
                    continue
                if len(a) != len(b):
                    return Mismatch(name, k, i, min(len(a), len(b)), -1, -1, abs(len(a) - len(b)))
                diff = [j for j in range(len(a)) if a[j] != b[j]]
                j = diff[0]
                return Mismatch(name, k, i, j, a[j], b[j], len(diff))
    return None
