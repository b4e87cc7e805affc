"""``conv2d``: 2-D convolution (Keras Conv2D and Conv1D, the pointwise half of
SeparableConv2D; TFLite CONV_2D). Weights OHWI in memory (CMSIS-NN's order)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op, dims4
from armsim.ops import _conv
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context, dims


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    return _conv.keras("conv2d", b, layer, ins, out_kt)


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    o = b.r.options(i, "Conv2DOptions")
    x = b.activation(i, ins[0])
    w = b.const(i, ins[1], "weight", "int8", lambda a: a.transpose(1, 2, 3, 0),
                lambda ax: {0: 3}.get(ax, ax))
    kh, kw, cin, cout = b.tensors[w].shape
    if b.tensors[x].shape[-1] != cin:
        raise ModelError(f"{b.where(i)}: grouped convolution is not supported")
    inputs = [x, w]
    _conv.tflite_bias(b, i, ins, inputs)
    y = b.activation(i, outs[0])
    attrs = {"kernel": (kh, kw, cin, cout), **_conv.tflite_geometry(b, i, o, x, y, (kh, kw))}
    return Op(f"conv_{i}", "conv2d", tuple(inputs), (y,), attrs, b.r.op_name(i))


class Conv2D(OpKind):
    name = "conv2d"
    summary = "2-D convolution [strides, padding, dilation, activation]"
    keras = {"Conv2D": _keras, "Conv1D": _keras}
    tflite = {"CONV_2D": _tflite}
    fusable = True
    folds_bn = True
    const_orders = {1: ((3, 0, 1, 2), "OHWI: W[o][kh][kw][i] = kernel[kh][kw][i][o]")}
    int8_scratch = True

    def macs(self, g: Graph, op: Op) -> int:
        kh, kw, cin, _cout = op.attrs["kernel"]
        oh, ow, cout = dims4(g.tensors[op.outputs[0]].shape)
        return oh * ow * cout * kh * kw * cin

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return _conv.reference(g, op, value, depthwise=False)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        a = op.attrs
        p = f"op{i}"
        out_t = ctx.g.tensors[op.outputs[0]]
        bias = ctx.ptr(op.inputs[2]) if len(op.inputs) > 2 else "0"
        prm = ctx.static("armsim_conv_params", f"{p}_params",
                         f"{{{ctx.tile(a['strides'])}, {ctx.tile(a['padding'])}, "
                         f"{ctx.tile(a['dilation'])}, {ctx.clamp(op)}}}")
        iv = ctx.static("armsim_view", f"{p}_input", ctx.view(op.inputs[0]))
        fv = ctx.static("armsim_view", f"{p}_filter", ctx.view(op.inputs[1], filter_=True))
        od = ctx.static("armsim_dims", f"{p}_out", dims(out_t.shape))
        return [f"armsim_conv2d_f32({prm}, {iv}, {ctx.ptr(op.inputs[0])}, {fv}, "
                f"{ctx.ptr(op.inputs[1])}, {bias}, {od}, {ctx.ptr(op.outputs[0], const=False)});"]

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        kh, kw, cin, _last = op.attrs["kernel"]
        out_shape = ctx.g.tensors[op.outputs[0]].shape
        c = _conv.s8_common(ctx, i, op, out_shape)
        p = f"op{i}"
        prm = ctx.static("cmsis_nn_conv_params", f"{p}_params",
                         f"{{{c.input_offset}, {c.output_offset}, {c.geometry}}}")
        fd = ctx.static("cmsis_nn_dims", f"{p}_filter", f"{{{out_shape[-1]}, {kh}, {kw}, {cin}}}")
        fn = "arm_convolve_wrapper_s8"
        return OpCode([_conv.s8_call(ctx, i, op, fn, prm, fd, c)],
                      f"{fn}_get_buffer_size({prm}, {c.input_dims}, {fd}, {c.output_dims})")

    def weight_axes(self, shape: tuple[int, ...]) -> tuple[str, ...] | None:
        return ("row", "col", "in", "out") if len(shape) == 4 else None


KIND = Conv2D()
