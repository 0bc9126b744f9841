"""PyTorch -> ONNX (TorchScript exporter) -> the ONNX frontend.

Accepted: ``file.py:factory`` (a function returning an ``nn.Module``; --input-shape required) or
a ``torch.export`` program saved with ``torch.export.save`` (.pt2; its recorded input shape is
used unless a dimension is dynamic). The legacy exporter (``dynamo=False``) is used because it is
about 15x faster than the dynamo one and needs no onnxscript; it traces the model at the given
shape, so shape-dependent Python code becomes constants that the ONNX frontend folds.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import re
import sys
import uuid
from pathlib import Path

from edgekit.convert.capture import CapturedLog
from edgekit.convert.frontends.onnx import OPSET, onnx_to_saved_model
from edgekit.convert.shapes import resolve_shape
from edgekit.convert.tfmodel import TFModel
from edgekit.core.errors import ConversionError, InputFileError, UsageError


def split_factory_spec(spec: str) -> tuple[Path, str]:
    """'models/net.py:make_net' -> (Path('models/net.py'), 'make_net')."""
    path, sep, factory = spec.rpartition(":")
    if not sep or not path.endswith(".py") or not factory.isidentifier():
        raise UsageError(f"{spec!r} is not of the form file.py:factory",
                         "name the Python file and the function that returns the nn.Module, e.g. net.py:make_net")
    return Path(path), factory


def _required_parameters(fn) -> list[str]:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins and some C callables have no signature
        return []
    return [p.name for p in params if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def load_factory_module(spec: str):
    import torch

    path, factory = split_factory_spec(spec)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file", "check the path of the Python file that defines the model")
    module_name = f"edgekit_user_model_{uuid.uuid4().hex[:8]}"
    mod_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(mod_spec)
    folder = str(path.resolve().parent)
    # As `python file.py` would: the file's own folder is importable (sibling modules), and the
    # module is registered while it runs (dataclasses look their module up by name).
    sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        try:
            mod_spec.loader.exec_module(module)
        except Exception as e:  # noqa: BLE001 - user code may fail in any way
            raise InputFileError(f"{path} failed to import: {type(e).__name__}: {e}",
                                 f"run `python {path}` to see the error and fix the file") from e
        fn = getattr(module, factory, None)
        if fn is None or not callable(fn):
            found = sorted(n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_")
                           and v.__module__ == module_name)
            raise UsageError(f"{path} defines no function '{factory}'",
                             f"use one of: {', '.join(found)}" if found else "define a function that returns the nn.Module")
        required = _required_parameters(fn)
        if required:
            raise UsageError(f"{path}:{factory} needs arguments ({', '.join(required)})",
                             "give a factory that takes no arguments (wrap the call in a small function)")
        try:
            model = fn()
        except Exception as e:  # noqa: BLE001 - user code may fail in any way
            raise ConversionError(f"{path}:{factory}() failed: {type(e).__name__}: {e}",
                                  "run the factory in Python and fix the error") from e
    finally:
        sys.modules.pop(module_name, None)
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)
    if not isinstance(model, torch.nn.Module):
        raise UsageError(f"{path}:{factory}() returned {type(model).__name__}, not a torch.nn.Module",
                         "make the factory return the network (an nn.Module instance)")
    return model


def _program_module(path: Path):
    import torch

    try:
        program = torch.export.load(str(path))
    except Exception as e:  # noqa: BLE001 - torch.export.load raises many types on bad archives
        raise InputFileError(f"{path}: not a torch.export program ({type(e).__name__}: {e})",
                             "save it with torch.export.save(torch.export.export(model, args), 'model.pt2')") from None
    graph_module = program.module()
    # The exporter calls train() on the module it is given, which an unlifted program refuses;
    # holding the program outside the Module tree (in a list) keeps the tracer from reaching it.
    for p in graph_module.parameters():
        p.requires_grad_(False)

    class ProgramModule(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self._program = [graph_module]

        def forward(self, *xs):
            return self._program[0](*xs)

    shapes = []
    for node in program.graph.nodes:
        if node.op == "placeholder" and node.name in program.graph_signature.user_inputs:
            val = node.meta.get("val")
            dims = [int(d) if isinstance(d, int) or str(d).isdigit() else None for d in val.shape]
            shapes.append((node.name, dims))
    return ProgramModule(), shapes


def _export_error(e: Exception) -> ConversionError:
    text = str(e)
    m = re.search(r"operator '([\w:.]+)'", text)
    if m:
        return ConversionError(f"PyTorch op {m.group(1)} cannot be converted (no ONNX export for it)",
                               f"replace {m.group(1)} in the model's forward() with supported ops, "
                               "or compute it outside the network")
    first = (text.strip().splitlines() or [type(e).__name__])[0][:200]
    return ConversionError(f"PyTorch export to ONNX failed: {type(e).__name__}: {first}",
                           "rerun with --debug for the traceback; simplify the forward() at the named line")


def torch_to_saved_model(source: str, input_shapes: tuple[tuple[int, ...], ...], workdir: Path,
                         log: CapturedLog, verbose: bool) -> TFModel:
    import torch

    if source.endswith(".pt2"):
        module, recorded = _program_module(Path(source))
        if input_shapes and len(input_shapes) != len(recorded):
            raise UsageError(f"{len(input_shapes)} --input-shape given, the program has {len(recorded)} input(s)",
                             "give one --input-shape per input, in order")
        shapes = [resolve_shape(n, d, input_shapes[k] if input_shapes else None) for k, (n, d) in enumerate(recorded)]
        names = [n for n, _ in recorded]
        fmt = "pytorch-export"
    else:
        module = load_factory_module(source)
        if not input_shapes:
            raise UsageError("a PyTorch factory needs --input-shape",
                             "give the input shape in the model's own layout, batch first, e.g. --input-shape 1,1,8,8")
        shapes = list(input_shapes)
        names = ["input"] if len(shapes) == 1 else [f"input_{k}" for k in range(len(shapes))]
        fmt = "pytorch"
        module.eval()
    args = tuple(torch.zeros(s) for s in shapes)
    with torch.no_grad():
        try:
            module(*args)
        except Exception as e:  # noqa: BLE001 - the user's forward() may fail in any way
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            shown = " and ".join(",".join(map(str, s)) for s in shapes)
            raise ConversionError(f"forward() fails on input shape {shown}: {type(e).__name__}: {first}",
                                  "check --input-shape (the model's own layout, batch first)") from e
    onnx_path = workdir / "model.onnx"
    try:
        with torch.no_grad():
            torch.onnx.export(module, args, str(onnx_path), dynamo=False, opset_version=OPSET,
                              input_names=names, do_constant_folding=True)
    except Exception as e:  # noqa: BLE001 - exporter errors come in many types
        raise _export_error(e) from e
    return onnx_to_saved_model(onnx_path, tuple(shapes), workdir, log, verbose, source_format=fmt)
