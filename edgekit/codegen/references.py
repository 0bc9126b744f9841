"""Reference interpreters for verification: TFLite Micro's Python interpreter (the default; its
int8 kernels are what CMSIS-NN follows) and LiteRT with BUILTIN_REF kernels. Both keep every
intermediate tensor so the first differing layer can be named."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from edgekit.core.errors import ToolMissingError, VerificationError
from edgekit.tflite.reader import read_tflite

REFERENCES = ("tflm", "litert")


class Reference:
    name: str

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def tensor(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the initial recurrent state (variable tensors), as after loading."""
        raise NotImplementedError


@contextlib.contextmanager
def _quiet_stderr():
    """TFLite Micro prints allocation errors on C stderr; keep them out of the CLI's one line."""
    fd = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)


def tflm_known_failure(model_path: Path) -> str | None:
    """Why TFLite Micro would compute wrong outputs for this model, or None. Micro never resizes a
    tensor: it trusts the shapes in the file, and a model exported with a dynamic batch carries
    SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND outputs whose batch (1) is not what the op produces."""
    graph = read_tflite(model_path)
    for op in graph.operators:
        if op.opcode not in ("SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND") or len(op.inputs) < 2 or not op.outputs:
            continue
        block = graph.tensors[op.inputs[1]].data
        x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        if block is None or not x.shape or not y.shape:
            continue
        factor = int(np.prod(block))
        want = x.shape[0] * factor if op.opcode == "SPACE_TO_BATCH_ND" else x.shape[0] // factor
        if y.shape[0] != want:
            return (f"op {op.index} {op.opcode}'s output has batch {y.shape[0]} in the file but the op produces "
                    f"{want} (a dynamic-batch export), and TFLite Micro does not resize tensors")
    return None


class TflmReference(Reference):
    name = "tflm"

    def __init__(self, model_path: Path, arena_bytes: int, num_outputs: int) -> None:
        self.num_outputs = num_outputs
        broken = tflm_known_failure(model_path)
        if broken is not None:
            raise VerificationError(f"TFLite Micro cannot run {model_path.name}: {broken}",
                                    "use --reference litert")
        try:
            from tflite_micro.python.tflite_micro import runtime
        except ImportError as e:
            raise ToolMissingError("the tflite-micro Python package is not installed",
                                   "pip install tflite-micro") from e
        data = model_path.read_bytes()
        try:
            with _quiet_stderr():
                self.it = runtime.Interpreter.from_bytes(
                    data, arena_size=max(arena_bytes, 10 * len(data)),
                    intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
        except Exception as e:  # noqa: BLE001 - the wrapper raises RuntimeError/ValueError
            raise VerificationError(f"TFLite Micro cannot run {model_path.name}: {e}",
                                    "use --reference litert") from None

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for i, x in enumerate(inputs):
            self.it.set_input(x, i)
        with _quiet_stderr():
            self.it.invoke()
        return [np.asarray(self.it.get_output(i)).copy() for i in range(self.num_outputs)]

    def tensor(self, index: int) -> np.ndarray:
        return np.asarray(self.it.GetTensor(index, 0)["tensor_data"])

    def reset(self) -> None:
        self.it.reset()


def litert_known_failure(model_path: Path) -> str | None:
    """Why LiteRT must not be run on this model, or None. LiteRT's SVDF with an int8 state
    corrupts memory (seen with keyword_scrambled_8bit: garbage, then a hang): not even tried."""
    graph = read_tflite(model_path)
    for op in graph.operators:
        if op.opcode == "SVDF" and len(op.inputs) > 4 and op.inputs[4] >= 0 \
                and graph.tensors[op.inputs[4]].dtype == "int8":
            return f"op {op.index} SVDF has an int8 state, on which LiteRT corrupts memory"
    return None


class LiteRTReference(Reference):
    name = "litert"

    def __init__(self, model_path: Path) -> None:
        broken = litert_known_failure(model_path)
        if broken is not None:
            raise VerificationError(f"LiteRT cannot run {model_path.name}: {broken}", "use --reference tflm")
        try:
            from ai_edge_litert import interpreter as litert
        except ImportError as e:
            raise ToolMissingError("ai-edge-litert is not installed", "pip install ai-edge-litert") from e
        try:
            self.it = litert.Interpreter(
                model_path=str(model_path), experimental_preserve_all_tensors=True,
                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
            self.it.allocate_tensors()
        except Exception as e:  # noqa: BLE001
            first = (str(e).splitlines() or [type(e).__name__])[0].split(". ")[0][:160]
            raise VerificationError(f"LiteRT cannot run {model_path.name}: {first}", "use --reference tflm") from None
        self.inputs = self.it.get_input_details()
        self.outputs = self.it.get_output_details()

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for d, x in zip(self.inputs, inputs):
            self.it.set_tensor(d["index"], x.reshape(d["shape"]))
        self.it.invoke()
        return [self.it.get_tensor(d["index"]).copy() for d in self.outputs]

    def tensor(self, index: int) -> np.ndarray:
        return self.it.get_tensor(index)

    def reset(self) -> None:
        self.it.reset_all_variables()


def open_reference(kind: str, model_path: Path, arena_bytes: int, num_outputs: int) -> Reference:
    if kind == "tflm":
        return TflmReference(model_path, arena_bytes, num_outputs)
    if kind == "litert":
        return LiteRTReference(model_path)
    raise ValueError(kind)
