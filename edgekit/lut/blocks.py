"""Graphs of LUT configurations: a single operator, an inverted-residual block, an operator pair
(and each of its operators alone), a chain of tiny operators. Each ``build_*`` adds one variant's
inputs, operators and outputs to a GraphWriter, so that a batch graph can hold many of them."""

from __future__ import annotations

from typing import Any, Callable

from edgekit.core.errors import UsageError
from edgekit.lut.archspace import ArchSpec, layer_plan
from edgekit.lut.writer import GraphWriter, Ref


def kernel_for(h: int, k: int, s: int, w: int = 0) -> tuple[tuple[int, int], tuple[int, int]]:
    """k x k kernel and s x s stride, or along the sequence only for a 1-D layout."""
    if h == 1:
        return (1, k), (1, s)
    if w == 1:
        return (k, 1), (s, 1)
    return (k, k), (s, s)


def build_single(w: GraphWriter, p: dict[str, Any], family: str) -> None:
    if family == "fc":
        x = w.input((1, p["cin"]))
        w.output(w.fully_connected(x, p["cout"], p["act"]))
        return
    if family == "softmax":
        w.output(w.softmax(w.input((1, p["n"]))))
        return
    c = p.get("cin", p.get("c"))
    x = w.input((1, p["h"], p["w"], c))
    if family in ("conv", "conv1x1"):
        y = w.conv2d(x, p["cout"], (p["kh"], p["kw"]), (p["sh"], p["sw"]), p["padding"], p["act"])
    elif family == "dwconv":
        y = w.depthwise(x, (p["kh"], p["kw"]), (p["sh"], p["sw"]), p["padding"], p["act"])
    elif family in ("avgpool", "maxpool"):
        kind = "AVERAGE_POOL_2D" if family == "avgpool" else "MAX_POOL_2D"
        y = w.pool(x, kind, (p["kh"], p["kw"]), (p["sh"], p["sw"]), p["padding"])
    elif family == "add":
        y = w.add(x, w.input(x.shape))
    elif family == "mean":
        y = w.mean(x)
    elif family == "pad":
        y = w.pad(x, ((p["pt"], p["pb"]), (p["pl"], p["pr"])))
    elif family == "reshape":
        y = w.reshape(x, (1, p["h"] * p["w"] * c))
    else:
        raise UsageError(f"unknown LUT family {family!r}")
    w.output(y)


def strided(w: GraphWriter, x: Ref, k: tuple[int, int], s: tuple[int, int], act: str,
            cout: int | None = None) -> Ref:
    """A stride-s convolution (depthwise when ``cout`` is None) with PyTorch padding (k//2 on each
    side) as the TFLite converter writes it: SAME when that padding is what SAME pads, else an
    explicit PAD and a VALID convolution."""
    _, h, wd, _ = x.shape
    pads = []
    for size, kk, ss in ((h, k[0], s[0]), (wd, k[1], s[1])):
        total = max((-(-size // ss) - 1) * ss + kk - size, 0)
        pads.append((total // 2, total - total // 2) == (kk // 2, kk // 2))
    if all(pads):
        y, padding = x, "SAME"
    else:
        y, padding = w.pad(x, ((k[0] // 2, k[0] // 2), (k[1] // 2, k[1] // 2))), "VALID"
    if cout is None:
        return w.depthwise(y, k, s, padding, act)
    return w.conv2d(y, cout, k, s, padding, act)


def inverted_residual(w: GraphWriter, x: Ref, cout: int, k: int, e: int, s: int, residual: bool) -> Ref:
    """MobileNetV2 block as the PyTorch path converts it: 1x1 expand (ReLU6) when e > 1, depthwise
    k x k (ReLU6; stride 2 with PyTorch padding, see ``strided``), 1x1 project, ADD when the shapes
    allow a residual."""
    h, wd, cin = x.shape[1], x.shape[2], x.shape[3]
    y = w.conv2d(x, cin * e, (1, 1), act="RELU6") if e > 1 else x
    kk, ss = kernel_for(h, k, s, wd)
    y = strided(w, y, kk, ss, "RELU6") if s == 2 else w.depthwise(y, kk, ss, "SAME", "RELU6")
    y = w.conv2d(y, cout, (1, 1))
    return w.add(x, y) if residual and s == 1 and cin == cout else y


def build_block(w: GraphWriter, p: dict[str, Any], variant: str) -> None:
    x = w.input((1, p["h"], p["w"], p["cin"]))
    w.output(inverted_residual(w, x, p["cout"], p["k"], p["e"], p["s"], p["residual"]))


def _pair_ops(p: dict[str, Any]) -> tuple[Callable[[GraphWriter, Ref], Ref], Callable[[GraphWriter, Ref], Ref], tuple[int, ...]]:
    """(first op, second op, input shape) of a pair configuration."""
    h, wd, c, cout, k, act = p["h"], p["w"], p["c"], p["cout"], p["k"], p["act"]
    (kh, kw), _ = kernel_for(h, k, 1, wd)
    ph, pw = kh // 2, kw // 2
    kind = p["kind"]
    if kind == "pad_conv":
        return (lambda w, x: w.pad(x, ((ph, ph), (pw, pw))),
                lambda w, x: w.conv2d(x, cout, (kh, kw), (1, 1), "VALID", act), (1, h, wd, c))
    if kind == "pad_dwconv":
        return (lambda w, x: w.pad(x, ((ph, ph), (pw, pw))),
                lambda w, x: w.depthwise(x, (kh, kw), (1, 1), "VALID", act), (1, h, wd, c))
    if kind == "conv_add":
        return (lambda w, x: w.conv2d(x, c, (1, 1), act="NONE"), None, (1, h, wd, c))   # add takes the input too
    if kind == "dw_pw":
        return (lambda w, x: w.depthwise(x, (kh, kw), (1, 1), "SAME", act),
                lambda w, x: w.conv2d(x, cout, (1, 1), act="NONE"), (1, h, wd, c))
    if kind == "pw_dw":
        return (lambda w, x: w.conv2d(x, cout, (1, 1), act=act),
                lambda w, x: w.depthwise(x, (kh, kw), (1, 1), "SAME", act), (1, h, wd, c))
    if kind == "mean_fc":
        return (lambda w, x: w.mean(x), lambda w, x: w.fully_connected(x, cout), (1, h, wd, c))
    if kind == "fc_softmax":
        return (lambda w, x: w.fully_connected(x, cout), lambda w, x: w.softmax(x), (1, c * 4))
    raise UsageError(f"unknown pair kind {kind!r}")


def build_pair(w: GraphWriter, p: dict[str, Any], variant: str) -> None:
    first, second, shape = _pair_ops(p)
    if p["kind"] == "conv_add":
        x = w.input(shape)
        if variant == "pair":
            w.output(w.add(x, first(w, x)))
        elif variant == "a":
            w.output(first(w, x))
        else:
            w.output(w.add(x, w.input(shape)))
        return
    if variant == "pair":
        x = w.input(shape)
        w.output(second(w, first(w, x)))
    elif variant == "a":
        w.output(first(w, w.input(shape)))
    else:
        # the second op alone, on an input of the first op's output shape
        probe = GraphWriter(seed=0)
        mid = first(probe, probe.input(shape)).shape
        w.output(second(w, w.input(mid)))


def build_chain(w: GraphWriter, p: dict[str, Any], variant: str) -> None:
    """n tiny ADDs in a row: the intercept over n is the runtime's fixed cost per inference."""
    x = w.input((1, 1, 1, 8))
    y = x
    for _ in range(p["n"]):
        y = w.add(y, x)
    w.output(y)


def add_arch(w: GraphWriter, spec: ArchSpec) -> None:
    """An architecture of the search space (edgekit.lut.archspace), written as the TFLite converter
    writes the Keras model of edgekit.predict.archbuild."""
    def orient(k: int, s: int) -> tuple[tuple[int, int], tuple[int, int]]:
        return kernel_for(spec.height, k, s, spec.width if spec.height > 1 else 0)

    x = w.input((1, *spec.input_shape_nhwc))
    for layer in layer_plan(spec):
        if layer["op"] == "conv":
            k, s = orient(layer["k"], layer["stride"])
            if layer["stride"] > 1:
                x = strided(w, x, k, s, "RELU6", layer["cout"])
            else:
                x = w.conv2d(x, layer["cout"], k, (1, 1), "SAME", "RELU6")
        elif layer["op"] == "block":
            x = inverted_residual(w, x, layer["cout"], layer["k"], layer["e"], layer["stride"], layer["residual"])
        else:
            x = w.fully_connected(w.mean(x), layer["classes"])
    w.output(x)


def build_arch(w: GraphWriter, p: dict[str, Any], variant: str) -> None:
    add_arch(w, ArchSpec.from_json(p["spec"]))
