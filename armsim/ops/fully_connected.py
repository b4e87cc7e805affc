"""``fully_connected``: a dense layer over the last axis (Keras Dense; TFLite
FULLY_CONNECTED). Weights ``[out][in]`` in memory.

int8: by default armsim's kernel with TFLite's reference requantization in double precision
(the interpreter's arithmetic, bit for bit); with CMSIS-NN's dense kernels
(``Int8Context.cmsis_fc``) the integer multiplier TFLM uses."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _conv, activations
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    weights = layer.get_weights()
    src = b.tensors[ins[0]]
    view = None
    before = b.reshaped_from(ins[0])  # a Dense after Flatten: keep the finer view
    if before is not None and len(src.shape) == 1:
        shape = b.tensors[before].shape
        if len(shape) > 1:
            view = tuple(shape) + (int(weights[0].shape[1]),)
    w = b.const(f"{layer.name}.kernel", weights[0], "weight", view)
    inputs = [ins[0], w]
    if cfg.get("use_bias", True):
        inputs.append(b.const(f"{layer.name}.bias", weights[1], "bias"))
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "fully_connected", tuple(inputs), (out,),
                    {"activation": activations.from_keras(cfg["activation"], K.where(layer))},
                    layer.name))
    return out


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    # keep_num_dims (a Dense on a sequence, attention's projections) changes only the
    # output's shape, which the file gives: the kernel runs rows of the last axis either way
    o = b.r.options(i, "FullyConnectedOptions")
    x = b.activation(i, ins[0])
    w = b.const(i, ins[1], "weight", "int8", lambda a: a.T, lambda ax: 1 - ax)
    n_in, _n_out = b.tensors[w].shape
    if b.tensors[x].size % n_in:
        raise ModelError(f"{b.where(i)}: input of {b.tensors[x].size} values is not a "
                         f"multiple of the weights' {n_in} inputs")
    inputs = [x, w]
    acc = _conv.tflite_bias(b, i, ins, inputs, o)
    y = b.activation(i, outs[0])
    act = T.fused(b, i, o.FusedActivationFunction() if o is not None else 0)
    return Op(f"fc_{i}", "fully_connected", tuple(inputs), (y,), {"activation": act, **acc},
              b.r.op_name(i))


class FullyConnected(OpKind):
    name = "fully_connected"
    summary = "dense layer over the last axis [activation]"
    keras = {"Dense": _keras}
    tflite = {"FULLY_CONNECTED": _tflite}
    tflite_int16 = frozenset({"FULLY_CONNECTED"})
    fusable = True
    folds_bn = True
    const_orders = {1: ((1, 0), "W[out][in] = kernel[in][out]")}
    int8_scratch = True

    def macs(self, g: Graph, op: Op) -> int:
        n_in, n_out = g.tensors[op.inputs[1]].shape
        return (g.tensors[op.outputs[0]].size // n_out) * n_in * n_out

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        w = value(op.inputs[1]).astype(np.float64)
        y = value(op.inputs[0]).astype(np.float64).reshape(-1, w.shape[0]) @ w
        if len(op.inputs) > 2:
            y = y + value(op.inputs[2]).astype(np.float64)
        return y

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        n_in, n_out = ctx.g.tensors[op.inputs[1]].shape
        n = ctx.g.tensors[op.outputs[0]].size
        bias = ctx.ptr(op.inputs[2]) if len(op.inputs) > 2 else "0"
        cl = ctx.static("armsim_clamp", f"op{i}_clamp", ctx.clamp(op))
        return [f"armsim_fully_connected_f32({cl}, {ctx.ptr(op.inputs[0])}, {n // n_out}, "
                f"{n_in}, {ctx.ptr(op.inputs[1])}, {bias}, {n_out}, "
                f"{ctx.ptr(op.outputs[0], const=False)});"]

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        g = ctx.g
        p = f"op{i}"
        src, out = ctx.ptr(op.inputs[0]), ctx.ptr(op.outputs[0], const=False)
        qi, qw, qo = ctx.quant(op.inputs[0]), ctx.quant(op.inputs[1]), ctx.quant(op.outputs[0])
        n_in, n_out = g.tensors[op.inputs[1]].shape
        batches = g.tensors[op.outputs[0]].size // n_out
        prm = ctx.static("cmsis_nn_fc_params", f"{p}_params",
                         f"{{{-qi.zero_point}, 0, {qo.zero_point}, {ctx.act(op)}}}")
        idm = ctx.static("cmsis_nn_dims", f"{p}_in", f"{{{batches}, 1, 1, {n_in}}}")
        fd = ctx.static("cmsis_nn_dims", f"{p}_filter", f"{{{n_in}, 1, 1, {n_out}}}")
        bd = ctx.static("cmsis_nn_dims", f"{p}_bias", f"{{1, 1, 1, {n_out}}}")
        od = ctx.static("cmsis_nn_dims", f"{p}_out", f"{{{batches}, 1, 1, {n_out}}}")
        bias = ctx.ptr(op.inputs[2]) if len(op.inputs) > 2 else "0"
        lo, hi = ctx.range(op)
        acc32 = bool(op.attrs.get("acc32"))
        if ctx.s16(op) and (qw.per_channel or acc32):  # 16x8: a 1x1 convolution
            # (CMSIS-NN's s16 dense kernel takes one weight scale and an int64 accumulator;
            # TFLM's reference FullyConnected(PerChannel) is the same arithmetic as its int16
            # convolution, accumulating in 32 or 64 bits as the bias type says)
            conv = ctx.static("cmsis_nn_conv_params", f"{p}_conv",
                              f"{{0, 0, {{1, 1}}, {{0, 0}}, {{1, 1}}, {{{lo}, {hi}}}}}")
            if qw.per_channel:
                qp = ctx.per_channel(p, op, n_out)
            else:  # TFLM's per-tensor multiplier, once per output channel
                m, s = Q.tflm_fc_multiplier(qi.scale, qw.scale, qo.scale)
                ctx.array("int32_t", f"{p}_mult", [m] * n_out)
                ctx.array("int32_t", f"{p}_shift", [s] * n_out)
                qp = ctx.static("cmsis_nn_per_channel_quant_params", f"{p}_quant",
                                f"{{(int32_t *){p}_mult, (int32_t *){p}_shift}}")
            fd1 = ctx.static("cmsis_nn_dims", f"{p}_filter1x1", f"{{{n_out}, 1, 1, {n_in}}}")
            bdata = ctx.static("cmsis_nn_bias_data", f"{p}_bias_data",
                               f"{{{bias}, {'true' if acc32 else 'false'}}}")
            call = (f"cmsis_nn_context ctx = {ctx.scratch(i)};\n"
                    f"    ARMSIM_CHECK({i}, arm_convolve_wrapper_s16(&ctx, {conv}, {qp}, {idm}, "
                    f"{src}, {fd1}, {ctx.ptr(op.inputs[1])}, {bd}, {bdata}, {od}, {out}));")
            return OpCode([call], f"arm_convolve_wrapper_s16_get_buffer_size({conv}, {idm}, "
                          f"{fd1}, {od})")
        if ctx.s16(op):  # 16x8: CMSIS-NN's s16 kernel, TFLM's per-tensor multiplier
            m, s = Q.tflm_fc_multiplier(qi.scale, qw.scale, qo.scale)
            qp = ctx.static("cmsis_nn_per_tensor_quant_params", f"{p}_quant", f"{{{m}, {s}}}")
            call = (f"cmsis_nn_context ctx = {ctx.scratch(i)};\n"
                    f"    ARMSIM_CHECK({i}, arm_fully_connected_s16(&ctx, {prm}, {qp}, {idm}, "
                    f"{src}, {fd}, {ctx.ptr(op.inputs[1])}, {bd}, {bias}, {od}, {out}));")
            return OpCode([call], f"arm_fully_connected_s16_get_buffer_size({fd})")
        if not ctx.cmsis_fc:  # TFLite's reference requantization (double precision)
            scales = [Q.fc_scale(qi.scale, w, qo.scale) for w in qw.scales]
            table = ctx.doubles(f"{p}_scales", scales)
            return OpCode([f"armsim_fully_connected_s8({src}, {batches}, {n_in}, "
                           f"{ctx.ptr(op.inputs[1])}, {bias}, {n_out}, {-qi.zero_point}, "
                           f"{qo.zero_point}, {table}, {int(qw.per_channel)}, {lo}, {hi}, "
                           f"{out});"])
        if qw.per_channel:
            qp = ctx.per_channel(p, op, n_out)
            fn = "arm_fully_connected_per_channel_s8"
        else:
            m, s = Q.quantize_multiplier(qi.scale * qw.scale / qo.scale)
            qp = ctx.static("cmsis_nn_per_tensor_quant_params", f"{p}_quant", f"{{{m}, {s}}}")
            fn = "arm_fully_connected_s8"
        call = (f"cmsis_nn_context ctx = {ctx.scratch(i)};\n"
                f"    ARMSIM_CHECK({i}, {fn}(&ctx, {prm}, {qp}, {idm}, {src}, {fd}, "
                f"{ctx.ptr(op.inputs[1])}, {bd}, {bias}, {od}, {out}));")
        return OpCode([call], f"arm_fully_connected_s8_get_buffer_size({fd})")

    def weight_axes(self, shape: tuple[int, ...]) -> tuple[str, ...] | None:
        if len(shape) == 3:
            return super().weight_axes(shape)
        return ("row", "col", "ch", "out")[-len(shape):] if len(shape) > 2 else ("in", "out")


KIND = FullyConnected()
