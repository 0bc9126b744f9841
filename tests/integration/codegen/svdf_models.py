"""Single-operator int8 SVDF models written directly as .tflite flatbuffers (no converter emits
SVDF): random weights, scales chosen from a float simulation so that activations use their range
without saturating, every variant TFLite Micro's integer SVDF handles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SvdfCase:
    name: str
    batches: int
    inputs: int
    units: int
    rank: int
    memory: int
    state: str            # "int8" | "int16"
    state_zero_point: int  # int8 only
    bias: bool = True


CASES = (
    SvdfCase("s8_rank1", 1, 20, 9, 1, 6, "int8", -7),
    SvdfCase("s8_rank2_zp0", 1, 13, 5, 2, 4, "int8", 0),
    SvdfCase("s8_batch2", 2, 11, 6, 1, 5, "int8", 11),
    SvdfCase("s16_rank1", 1, 20, 9, 1, 6, "int16", 0),
    SvdfCase("s16_rank3_batch2", 2, 7, 4, 3, 3, "int16", 0),
)


def _quantize(x: np.ndarray, scale: float, zp: int, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zp, info.min, info.max).astype(dtype)


def build_svdf(case: SvdfCase, seed: int) -> bytes:
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    rng = np.random.default_rng(seed)
    filters = case.units * case.rank
    wf = rng.normal(0, 1 / np.sqrt(case.inputs), (filters, case.inputs))
    wt = rng.normal(0, 1 / np.sqrt(case.memory), (filters, case.memory))
    bias = rng.normal(0, 0.3, case.units)
    # float simulation over a sequence to size the state and output scales
    x_seq = rng.uniform(-2, 2, (32, case.batches, case.inputs))
    state = np.zeros((case.batches, filters, case.memory))
    feat_max = out_max = 1e-3
    for x in x_seq:
        state = np.roll(state, -1, axis=2)
        state[:, :, -1] = x @ wf.T
        feat_max = max(feat_max, np.abs(state).max())
        out = (state * wt).sum(2).reshape(case.batches, case.units, case.rank).sum(2) + bias
        out_max = max(out_max, np.abs(out).max())
    s_in, zp_in = 4 / 255, -3
    s_wf = np.abs(wf).max() / 127
    st_range = 127 if case.state == "int8" else 32767
    s_st = feat_max / (1.5 * st_range)      # the largest feature values clamp in the state
    s_wt = np.abs(wt).max() / (127 if case.state == "int8" else 32767)
    s_out, zp_out = out_max / 110, 4
    st_dtype = np.int8 if case.state == "int8" else np.int16

    tensors, buffers = [], [s.BufferT()]

    def add(name, shape, ttype, scale, zp, data=None, variable=False):
        t = s.TensorT()
        t.name, t.shape, t.type, t.isVariable = name.encode(), list(shape), ttype, variable
        q = s.QuantizationParametersT()
        q.scale, q.zeroPoint = [float(np.float32(scale))], [int(zp)]
        t.quantization = q
        b = s.BufferT()
        if data is not None:
            b.data = np.ascontiguousarray(data).tobytes()
        t.buffer = len(buffers)
        buffers.append(b)
        tensors.append(t)
        return len(tensors) - 1

    tt = s.TensorType
    i_x = add("input", (case.batches, case.inputs), tt.INT8, s_in, zp_in)
    i_wf = add("weights_feature", wf.shape, tt.INT8, s_wf, 0, _quantize(wf, s_wf, 0, np.int8))
    wt_type = tt.INT8 if case.state == "int8" else tt.INT16
    i_wt = add("weights_time", wt.shape, wt_type, s_wt, 0, _quantize(wt, s_wt, 0, st_dtype))
    s_bias = float(np.float32(s_st) * np.float32(s_wt))
    i_b = add("bias", (case.units,), tt.INT32, s_bias, 0, _quantize(bias, s_bias, 0, np.int32)) if case.bias else -1
    zp_st = case.state_zero_point if case.state == "int8" else 0
    i_st = add("state", (case.batches, filters * case.memory), wt_type, s_st, zp_st, variable=True)
    i_y = add("output", (case.batches, case.units), tt.INT8, s_out, zp_out)
    op = s.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [i_x, i_wf, i_wt, i_b, i_st], [i_y]
    op.builtinOptionsType = s.BuiltinOptions.SVDFOptions
    opt = s.SVDFOptionsT()
    opt.rank, opt.fusedActivationFunction = case.rank, s.ActivationFunctionType.NONE
    op.builtinOptions = opt
    sg = s.SubGraphT()
    sg.tensors, sg.inputs, sg.outputs, sg.operators = tensors, [i_x], [i_y], [op]
    code = s.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.SVDF
    code.version = 3
    model = s.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, [code], [sg], buffers
    model.description = b"edgekit SVDF test model"
    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())
