"""``svdf``: an int8 SVDF (TFLite's singular value decomposition filter: a feature projection
of each input into a state of the last ``memory`` steps, a time projection of that state,
summed over ``rank``; TFLM's keyword-spotting models) on CMSIS-NN's ``arm_svdf_s8`` (int8
state and time weights) or ``arm_svdf_state_s16_s8`` (int16).

The state is the file's variable tensor. TFLM keeps it between invocations (a stream);
armsim runs every inference from its reset value, as the hosts do when they reset the
variables before each input: the op fills the state with its zero point (TFLM's
ResetVariableTensors) and then calls the kernel, the state living in the op's scratch. The
output clamp is the int8 range whatever the fused activation, as TFLM's integer SVDF does.

Inputs of an op: the input (1, F), weights_feature (filters, F), weights_time (filters,
memory), the int32 bias (units,) when present. Attributes: ``rank``, ``state`` (the state's
quantization) and ``state_dtype``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import Int8Context


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    if b.float32:
        raise ModelError(f"{b.where(i)}: armsim runs SVDF in int8 files only; "
                         "`--runtime tflm` runs a float32 SVDF on TFLM's kernels")
    o = b.r.options(i, "SVDFOptions")
    if len(ins) < 5 or ins[4] < 0 or not b.r.sg.Tensors(ins[4]).IsVariable():
        raise ModelError(f"{b.where(i)}: an SVDF without its variable state tensor")
    state_dtype = b.r.dtype(ins[4])
    if state_dtype not in ("int8", "int16") or b.r.dtype(ins[2]) != state_dtype:
        raise ModelError(f"{b.where(i)}: an SVDF with {b.r.dtype(ins[2])} time weights and "
                         f"a {state_dtype} state; CMSIS-NN takes int8 with int8 or int16 "
                         "with int16")
    state = b.r.quant(ins[4])
    if state is None:
        raise ModelError(f"{b.where(i)}: the SVDF state has no quantization")
    x = b.activation(i, ins[0])
    features = b.const(i, ins[1], "weight", "int8")
    times = b.const(i, ins[2], "weight", state_dtype)
    inputs = [x, features, times]
    if ins[3] >= 0:
        inputs.append(b.const(i, ins[3], "bias", "int32"))
    y = b.activation(i, outs[0])
    rank = o.Rank() if o is not None else 1
    filters = b.tensors[features].shape[0]
    if rank < 1 or filters % rank or b.tensors[y].size != filters // rank:
        raise ModelError(f"{b.where(i)}: rank {rank} does not divide {filters} filters into "
                         f"the output's {b.tensors[y].size} units")
    if len(b.tensors[x].shape) != 1:
        raise ModelError(f"{b.where(i)}: an SVDF over a batch of {b.r.shape(ins[0])[0]}; "
                         "armsim runs batch 1")
    return Op(f"svdf_{i}", "svdf", tuple(inputs), (y,),
              {"rank": rank, "state": state, "state_dtype": state_dtype}, b.r.op_name(i))


def _f32(v: float) -> np.float32:
    return np.float32(v)


class Svdf(OpKind):
    name = "svdf"
    summary = "int8 SVDF: feature projection into a state of past steps, time projection [rank]"
    tflite = {"SVDF": _tflite}
    int8_scratch = True

    def macs(self, g: Graph, op: Op) -> int:
        filters, features = g.tensors[op.inputs[1]].shape
        return filters * (features + g.tensors[op.inputs[2]].shape[1])

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        raise ModelError(f"op {op.name}: an int8 SVDF has no float reference")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        g, a, p = ctx.g, op.attrs, f"op{i}"
        x, wf, wt = op.inputs[:3]
        filters, features = g.tensors[wf].shape
        memory = g.tensors[wt].shape[1]
        units = filters // a["rank"]
        qx, qf, qt, qo, qs = (ctx.quant(x), ctx.quant(wf), ctx.quant(wt),
                              ctx.quant(op.outputs[0]), a["state"])
        # TFLM's Prepare: the scales multiplied and divided in float, then QuantizeMultiplier
        m1 = Q.quantize_multiplier(float(_f32(qx.scale) * _f32(qf.scale) / _f32(qs.scale)))
        m2 = Q.quantize_multiplier(float(_f32(qs.scale) * _f32(qt.scale) / _f32(qo.scale)))
        s16 = a["state_dtype"] == "int16"
        width = 2 if s16 else 1
        n_state = filters * memory
        state_bytes = (n_state * width + 3) // 4 * 4
        scratch = state_bytes + 4 * filters + 4 * units
        prm = ctx.static("cmsis_nn_svdf_params", f"{p}_params",
                         f"{{{a['rank']}, {qx.zero_point}, {qo.zero_point}, "
                         "{INT16_MIN, INT16_MAX}, {-128, 127}}")
        inq = ctx.static("cmsis_nn_per_tensor_quant_params", f"{p}_in_quant",
                         f"{{{m1[0]}, {m1[1]}}}")
        outq = ctx.static("cmsis_nn_per_tensor_quant_params", f"{p}_out_quant",
                          f"{{{m2[0]}, {m2[1]}}}")
        dims = {"in": f"{{1, {features}, 1, 1}}", "state": f"{{1, {n_state}, 1, 1}}",
                "features": f"{{{filters}, {features}, 1, 1}}",
                "times": f"{{{filters}, {memory}, 1, 1}}", "bias": f"{{{units}, 1, 1, 1}}",
                "out": f"{{1, {units}, 1, 1}}"}
        d = {k: ctx.static("cmsis_nn_dims", f"{p}_{k}_dims", v) for k, v in dims.items()}
        bias = ctx.ptr(op.inputs[3]) if len(op.inputs) > 3 else "0"
        ctype = "int16_t" if s16 else "int8_t"
        fill = 0 if s16 else qs.zero_point  # TFLM resets an int8 state to its zero point
        args = (f"{prm}, {inq}, {outq}, {d['in']}, {ctx.ptr(x)}, {d['state']}, state, "
                f"{d['features']}, {ctx.ptr(wf)}, {d['times']}, {ctx.ptr(wt)}, {d['bias']}, "
                f"{bias}, {d['out']}, {ctx.ptr(op.outputs[0], const=False)}")
        call = ("arm_svdf_state_s16_s8(&buf_a, &buf_b, " if s16 else
                "arm_svdf_s8(&(cmsis_nn_context){0, 0}, &buf_a, &buf_b, ") + args + ")"
        return OpCode([
            f"cmsis_nn_context sc = {ctx.scratch(i)};\n"
            f"    {ctype} *state = ({ctype} *)sc.buf;\n"
            f"    for (int32_t k = 0; k < {n_state}; k++) state[k] = {fill};\n"
            f"    cmsis_nn_context buf_a = {{(int8_t *)sc.buf + {state_bytes}, {4 * filters}}};\n"
            f"    cmsis_nn_context buf_b = {{(int8_t *)sc.buf + {state_bytes + 4 * filters}, "
            f"{4 * units}}};\n"
            f"    ARMSIM_CHECK({i}, {call});"], str(scratch))


KIND = Svdf()
