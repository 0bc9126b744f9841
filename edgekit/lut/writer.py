"""Write small full-int8 .tflite graphs directly (flatbuffer object API), in milliseconds.

The lookup-table sweep needs thousands of single-operator and block models; the TFLite converter
takes ~0.5 s per model, this writer a few ms. The graphs have the structure the converter emits
for the same Keras layers (checked in tests/unit/lut/test_writer.py against a converted model):
int8 activations with per-tensor scales, int8 weights quantized per channel (axis 0, depthwise
axis 3) with zero point 0, int32 biases with scale input_scale x weight_scale, fused
activations, SAME/VALID padding. Weights are seeded random numbers: latency does not depend on
their values, and the same seed gives the same bytes (the same sha256, so a rerun resumes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekit.core.errors import UsageError

ACTIVATIONS = ("NONE", "RELU", "RELU6")
PADDINGS = ("SAME", "VALID")


@dataclass(frozen=True)
class Ref:
    """An activation tensor of the graph being built."""

    index: int
    shape: tuple[int, ...]
    scale: float
    zero_point: int


def conv_out(size: int, k: int, stride: int, padding: str) -> int:
    if padding == "SAME":
        return (size + stride - 1) // stride
    return (size - k) // stride + 1


class GraphWriter:
    """Builds one subgraph; every method returns the Ref of the op's output."""

    def __init__(self, seed: int = 0, name: str = "edgekit-lut") -> None:
        from ai_edge_litert import schema_py_generated as schema

        self.s = schema
        self.rng = np.random.default_rng(seed)
        self.name = name
        self.tensors: list = []
        self.buffers: list = [schema.BufferT()]
        self.operators: list = []
        self.opcodes: dict[tuple[int, int], int] = {}
        self.opcode_list: list = []
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    # -- tensors -------------------------------------------------------------------------------
    def _tensor(self, shape: tuple[int, ...], ttype: int, name: str, scale: np.ndarray | None = None,
                zero_point: np.ndarray | None = None, axis: int = 0, data: np.ndarray | None = None) -> int:
        t = self.s.TensorT()
        t.shape = np.array(shape, dtype=np.int32)
        t.type = ttype
        t.name = f"{name}_{len(self.tensors)}".encode()
        if scale is not None:
            q = self.s.QuantizationParametersT()
            q.scale = np.asarray(scale, dtype=np.float32).reshape(-1)
            q.zeroPoint = np.asarray(zero_point, dtype=np.int64).reshape(-1)
            q.quantizedDimension = axis
            t.quantization = q
        if data is not None:
            b = self.s.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8)
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def _act(self, shape: tuple[int, ...], name: str, scale: float, zero_point: int) -> Ref:
        i = self._tensor(shape, self.s.TensorType.INT8, name, np.array([scale]), np.array([zero_point]))
        return Ref(i, shape, scale, zero_point)

    def _out_quant(self, act: str) -> tuple[float, int]:
        # after a ReLU the converter puts the zero point at -128; otherwise near the middle
        scale = float(self.rng.uniform(0.01, 0.06))
        return (scale, -128) if act in ("RELU", "RELU6") else (scale, int(self.rng.integers(-20, 20)))

    def _weights(self, shape: tuple[int, ...], axis: int, name: str) -> tuple[int, np.ndarray]:
        channels = shape[axis]
        data = self.rng.integers(-127, 128, size=shape, dtype=np.int8)
        scales = self.rng.uniform(0.001, 0.01, size=channels).astype(np.float32)
        return self._tensor(shape, self.s.TensorType.INT8, name, scales, np.zeros(channels), axis, data), scales

    def _bias(self, x: Ref, w_scales: np.ndarray, name: str) -> int:
        n = w_scales.size
        data = self.rng.integers(-2000, 2000, size=(n,), dtype=np.int32)
        scales = (x.scale * w_scales.astype(np.float64)).astype(np.float32)
        return self._tensor((n,), self.s.TensorType.INT32, name, scales, np.zeros(n), 0, data)

    def _const_i32(self, values: np.ndarray, name: str) -> int:
        values = np.asarray(values, dtype=np.int32)
        return self._tensor(values.shape, self.s.TensorType.INT32, name, data=values)

    def _op(self, code: int, version: int, inputs: list[int], outputs: list[int], opt_type: int, opt) -> None:
        key = (code, version)
        if key not in self.opcodes:
            oc = self.s.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = version
            self.opcodes[key] = len(self.opcode_list)
            self.opcode_list.append(oc)
        op = self.s.OperatorT()
        op.opcodeIndex = self.opcodes[key]
        op.inputs = np.array(inputs, dtype=np.int32)
        op.outputs = np.array(outputs, dtype=np.int32)
        op.builtinOptionsType = opt_type
        op.builtinOptions = opt
        self.operators.append(op)

    @staticmethod
    def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
        if value not in allowed:
            raise UsageError(f"{name} {value!r} is not one of {', '.join(allowed)}")

    # -- graph ---------------------------------------------------------------------------------
    def input(self, shape: tuple[int, ...]) -> Ref:
        ref = self._act(tuple(shape), "input", float(self.rng.uniform(0.01, 0.05)), int(self.rng.integers(-20, 20)))
        self.inputs.append(ref.index)
        return ref

    def output(self, ref: Ref) -> None:
        self.outputs.append(ref.index)

    def conv2d(self, x: Ref, cout: int, k: tuple[int, int], stride: tuple[int, int] = (1, 1),
               padding: str = "SAME", act: str = "NONE") -> Ref:
        self._check("padding", padding, PADDINGS)
        self._check("activation", act, ACTIVATIONS)
        _, h, w, cin = x.shape
        shape = (1, conv_out(h, k[0], stride[0], padding), conv_out(w, k[1], stride[1], padding), cout)
        wi, ws = self._weights((cout, k[0], k[1], cin), 0, "conv_w")
        bi = self._bias(x, ws, "conv_b")
        out = self._act(shape, "conv", *self._out_quant(act))
        o = self.s.Conv2DOptionsT()
        o.padding = getattr(self.s.Padding, padding)
        o.strideH, o.strideW = stride
        o.dilationHFactor = o.dilationWFactor = 1
        o.fusedActivationFunction = getattr(self.s.ActivationFunctionType, act)
        self._op(self.s.BuiltinOperator.CONV_2D, 3, [x.index, wi, bi], [out.index],
                 self.s.BuiltinOptions.Conv2DOptions, o)
        return out

    def depthwise(self, x: Ref, k: tuple[int, int], stride: tuple[int, int] = (1, 1), padding: str = "SAME",
                  act: str = "NONE", multiplier: int = 1) -> Ref:
        self._check("padding", padding, PADDINGS)
        self._check("activation", act, ACTIVATIONS)
        _, h, w, c = x.shape
        cout = c * multiplier
        shape = (1, conv_out(h, k[0], stride[0], padding), conv_out(w, k[1], stride[1], padding), cout)
        wi, ws = self._weights((1, k[0], k[1], cout), 3, "dw_w")
        bi = self._bias(x, ws, "dw_b")
        out = self._act(shape, "dw", *self._out_quant(act))
        o = self.s.DepthwiseConv2DOptionsT()
        o.padding = getattr(self.s.Padding, padding)
        o.strideH, o.strideW = stride
        o.depthMultiplier = multiplier
        o.dilationHFactor = o.dilationWFactor = 1
        o.fusedActivationFunction = getattr(self.s.ActivationFunctionType, act)
        self._op(self.s.BuiltinOperator.DEPTHWISE_CONV_2D, 3, [x.index, wi, bi], [out.index],
                 self.s.BuiltinOptions.DepthwiseConv2DOptions, o)
        return out

    def fully_connected(self, x: Ref, cout: int, act: str = "NONE") -> Ref:
        self._check("activation", act, ACTIVATIONS)
        cin = x.shape[-1]
        wi, ws = self._weights((cout, cin), 0, "fc_w")
        bi = self._bias(x, ws, "fc_b")
        out = self._act((1, cout), "fc", *self._out_quant(act))
        o = self.s.FullyConnectedOptionsT()
        o.fusedActivationFunction = getattr(self.s.ActivationFunctionType, act)
        self._op(self.s.BuiltinOperator.FULLY_CONNECTED, 4, [x.index, wi, bi], [out.index],
                 self.s.BuiltinOptions.FullyConnectedOptions, o)
        return out

    def pool(self, x: Ref, kind: str, k: tuple[int, int], stride: tuple[int, int], padding: str = "VALID") -> Ref:
        self._check("pool", kind, ("AVERAGE_POOL_2D", "MAX_POOL_2D"))
        self._check("padding", padding, PADDINGS)
        _, h, w, c = x.shape
        shape = (1, conv_out(h, k[0], stride[0], padding), conv_out(w, k[1], stride[1], padding), c)
        out = self._act(shape, "pool", x.scale, x.zero_point)   # pooling keeps its input's quantization
        o = self.s.Pool2DOptionsT()
        o.padding = getattr(self.s.Padding, padding)
        o.strideH, o.strideW = stride
        o.filterHeight, o.filterWidth = k
        self._op(getattr(self.s.BuiltinOperator, kind), 2, [x.index], [out.index], self.s.BuiltinOptions.Pool2DOptions, o)
        return out

    def add(self, a: Ref, b: Ref, act: str = "NONE") -> Ref:
        self._check("activation", act, ACTIVATIONS)
        if a.shape != b.shape:
            raise UsageError(f"add of shapes {a.shape} and {b.shape}", "the LUT writer adds equal shapes only")
        out = self._act(a.shape, "add", *self._out_quant(act))
        o = self.s.AddOptionsT()
        o.fusedActivationFunction = getattr(self.s.ActivationFunctionType, act)
        o.potScaleInt16 = True
        self._op(self.s.BuiltinOperator.ADD, 2, [a.index, b.index], [out.index], self.s.BuiltinOptions.AddOptions, o)
        return out

    def mean(self, x: Ref) -> Ref:
        """Global average pooling as the converter writes it: MEAN over H and W, keep_dims false."""
        axes = self._const_i32(np.array([1, 2]), "mean_axes")
        out = self._act((1, x.shape[-1]), "mean", *self._out_quant("NONE"))
        o = self.s.ReducerOptionsT()
        o.keepDims = False
        self._op(self.s.BuiltinOperator.MEAN, 2, [x.index, axes], [out.index], self.s.BuiltinOptions.ReducerOptions, o)
        return out

    def pad(self, x: Ref, pads: tuple[tuple[int, int], tuple[int, int]]) -> Ref:
        _, h, w, c = x.shape
        (t, b), (left, r) = pads
        paddings = self._const_i32(np.array([[0, 0], [t, b], [left, r], [0, 0]]), "paddings")
        out = self._act((1, h + t + b, w + left + r, c), "pad", x.scale, x.zero_point)
        self._op(self.s.BuiltinOperator.PAD, 2, [x.index, paddings], [out.index], self.s.BuiltinOptions.PadOptions,
                 self.s.PadOptionsT())
        return out

    def reshape(self, x: Ref, shape: tuple[int, ...]) -> Ref:
        if int(np.prod(shape)) != int(np.prod(x.shape)):
            raise UsageError(f"reshape {x.shape} -> {shape} changes the element count")
        new = self._const_i32(np.array(shape), "shape")
        out = self._act(tuple(shape), "reshape", x.scale, x.zero_point)
        o = self.s.ReshapeOptionsT()
        o.newShape = np.array(shape, dtype=np.int32)
        self._op(self.s.BuiltinOperator.RESHAPE, 1, [x.index, new], [out.index], self.s.BuiltinOptions.ReshapeOptions, o)
        return out

    def softmax(self, x: Ref) -> Ref:
        out = self._act(x.shape, "softmax", 1.0 / 256.0, -128)   # the int8 softmax output LiteRT requires
        o = self.s.SoftmaxOptionsT()
        o.beta = 1.0
        self._op(self.s.BuiltinOperator.SOFTMAX, 2, [x.index], [out.index], self.s.BuiltinOptions.SoftmaxOptions, o)
        return out

    # -- file ----------------------------------------------------------------------------------
    def finish(self) -> bytes:
        import flatbuffers

        if not self.inputs or not self.outputs or not self.operators:
            raise UsageError("a LUT graph needs at least one input, one operator and one output")
        sg = self.s.SubGraphT()
        sg.tensors = self.tensors
        sg.operators = self.operators
        sg.inputs = np.array(self.inputs, dtype=np.int32)
        sg.outputs = np.array(self.outputs, dtype=np.int32)
        sg.name = b"main"
        m = self.s.ModelT()
        m.version = 3
        m.operatorCodes = self.opcode_list
        m.subgraphs = [sg]
        m.buffers = self.buffers
        m.description = self.name.encode()
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())
