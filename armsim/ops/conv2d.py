"""``conv2d``: 2-D convolution (Keras Conv2D and Conv1D, the pointwise half of
SeparableConv2D; TFLite CONV_2D). Weights OHWI in memory (CMSIS-NN's order). A grouped
convolution is read as a depthwise one (one input channel per group) or as one conv2d per
group between a ``slice`` and a ``concat`` (the Keras side: ``_conv._grouped``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op, Tensor, dims4
from armsim.ops import _conv
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context, dims
from armsim.quant import Quant


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    return _conv.keras("conv2d", b, layer, ins, out_kt)


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op | list[Op]:
    o = b.r.options(i, "Conv2DOptions")
    x = b.activation(i, ins[0])
    if b.r.data(ins[1]) is not None and len(b.r.shape(ins[1])) == 4 and \
            b.tensors[x].shape[-1] != b.r.shape(ins[1])[3]:
        return _grouped(b, i, o, x, ins, outs)
    w = b.const(i, ins[1], "weight", "int8", lambda a: a.transpose(1, 2, 3, 0),
                lambda ax: {0: 3}.get(ax, ax))
    kh, kw, cin, cout = b.tensors[w].shape
    if b.tensors[x].shape[-1] != cin:
        raise ModelError(f"{b.where(i)}: grouped convolution is not supported")
    inputs = [x, w]
    acc = _conv.tflite_bias(b, i, ins, inputs, o)
    y = b.activation(i, outs[0])
    attrs = {"kernel": (kh, kw, cin, cout), **_conv.tflite_geometry(b, i, o, x, y, (kh, kw)),
             **acc}
    return Op(f"conv_{i}", "conv2d", tuple(inputs), (y,), attrs, b.r.op_name(i))


def _grouped(b: Any, i: int, o: Any, x: str, ins: list[int], outs: list[int]
             ) -> Op | list[Op]:
    """A grouped CONV_2D (the filter reads C / groups input channels): one channel per group
    is a depthwise convolution; otherwise a ``slice`` of each group's input channels, a
    ``conv2d`` each and a ``concat`` of their outputs, the filter and bias split by group."""
    cout, kh, kw, ci_g = b.r.shape(ins[1])
    c = b.tensors[x].shape[-1]
    if c % ci_g or cout % (c // ci_g):
        raise ModelError(f"{b.where(i)}: a filter of {ci_g} input channels does not divide "
                         f"the input's {c} into groups")
    groups, co_g = c // ci_g, cout // (c // ci_g)
    if ci_g > 1 and b.int16:
        raise ModelError(f"{b.where(i)}: a grouped convolution of {ci_g} input channels per "
                         "group in a 16x8 model: armsim runs it as slices of the input, "
                         "which it copies as int8 and float32 only")
    y = b.activation(i, outs[0])
    geo = _conv.tflite_geometry(b, i, o, x, y, (kh, kw))
    if ci_g == 1:  # output channel c * m + j reads input channel c: depthwise
        w = b.const(i, ins[1], "weight", "int8",
                    lambda a: a.transpose(1, 2, 3, 0).reshape(kh, kw, c, co_g), lambda ax: 3)
        inputs = [x, w]
        _conv.tflite_bias(b, i, ins, inputs, acc32=False)
        return Op(f"conv_{i}", "depthwise_conv2d", tuple(inputs), (y,),
                  {"kernel": (kh, kw, c, co_g), "multiplier": co_g, **geo}, b.r.op_name(i))
    data = b.r.data(ins[1]).transpose(1, 2, 3, 0)  # (kh, kw, ci_g, cout)
    bias = b.r.data(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
    qw = None if b.float32 else b.r.quant(ins[1], lambda ax: {0: 3}.get(ax, ax))
    qb = None if b.float32 or bias is None else b.r.quant(ins[2])
    if not b.float32 and (qw is None or b.r.dtype(ins[1]) != "int8"):
        raise ModelError(f"{b.where(i)}: its filter is not per-channel int8")

    def part(q: Any, lo: int, hi: int) -> Any:
        if q is None or not q.per_channel:
            return q
        return Quant(q.scales[lo:hi], q.zero_points[lo:hi], q.axis)

    ops, parts = [], []
    rank = len(b.tensors[x].shape)
    name = b.name(ins[1])
    for g in range(groups):
        lo, hi = g * co_g, (g + 1) * co_g
        xs = b.derived(f"conv_{i}/group{g}/input", x, (*b.tensors[x].shape[:-1], ci_g))
        ops.append(Op(f"conv_{i}/group{g}/input", "slice", (x,), (xs,),
                      {"begin": (0,) * (rank - 1) + (g * ci_g,), "step": (1,) * rank,
                       "keep": tuple(range(rank))}, b.r.op_name(i)))
        wt = np.ascontiguousarray(data[..., lo:hi])
        wn = b.derived(f"{name}/group{g}", x, wt.shape)  # a unique name, then the constant
        b.tensors[wn] = Tensor(wn, wt.shape, "float32" if b.float32 else "int8", "weight",
                               data=wt.astype(np.float32) if b.float32 else wt,
                               quant=part(qw, lo, hi))
        inputs = [xs, wn]
        if bias is not None:
            bt = np.ascontiguousarray(bias[lo:hi])
            bn = b.derived(f"{b.name(ins[2])}/group{g}", x, bt.shape)
            b.tensors[bn] = Tensor(bn, bt.shape, "float32" if b.float32 else "int32", "bias",
                                   data=bt.astype(np.float32) if b.float32 else bt,
                                   quant=part(qb, lo, hi))
            inputs.append(bn)
        yg = b.derived(f"conv_{i}/group{g}", y, (*b.tensors[y].shape[:-1], co_g))
        ops.append(Op(f"conv_{i}/group{g}", "conv2d", tuple(inputs), (yg,),
                      {"kernel": (kh, kw, ci_g, co_g), **geo}, b.r.op_name(i)))
        parts.append(yg)
    ops.append(Op(f"conv_{i}", "concat", tuple(parts), (y,),
                  {"axis": len(b.tensors[y].shape) - 1}, b.r.op_name(i)))
    return ops


class Conv2D(OpKind):
    name = "conv2d"
    summary = "2-D convolution [strides, padding, dilation, activation]"
    keras = {"Conv2D": _keras, "Conv1D": _keras}
    tflite = {"CONV_2D": _tflite}
    tflite_int16 = frozenset({"CONV_2D"})
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
        fn = "arm_convolve_wrapper_s16" if ctx.s16(op) else "arm_convolve_wrapper_s8"
        return OpCode([_conv.s8_call(ctx, i, op, fn, prm, fd, c)],
                      f"{fn}_get_buffer_size({prm}, {c.input_dims}, {fd}, {c.output_dims})")

    def weight_axes(self, shape: tuple[int, ...]) -> tuple[str, ...] | None:
        return ("row", "col", "in", "out") if len(shape) == 4 else None


KIND = Conv2D()
