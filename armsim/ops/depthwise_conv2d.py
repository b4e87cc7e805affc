"""``depthwise_conv2d``: depthwise 2-D convolution with any depth multiplier (Keras
DepthwiseConv2D/1D, the depthwise half of SeparableConv2D/1D; TFLite DEPTHWISE_CONV_2D).
Weights ``[kh][kw][c*M + m]`` in memory."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.graph import LINEAR, Graph, Op, Tensor, dims4
from armsim.ops import _conv, activations
from armsim.ops import _keras as K
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context, dims


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    return _conv.keras("depthwise_conv2d", b, layer, ins, out_kt, depthwise=True)


def _separable(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    """SeparableConv1D/2D: a depthwise op, then a pointwise ``conv2d``."""
    cfg = layer.get_config()
    K.channels_last(layer)
    weights = layer.get_weights()
    dwk, pwk = weights[0], weights[1]
    if dwk.ndim == 3:  # SeparableConv1D
        dwk, pwk = dwk[np.newaxis], pwk[np.newaxis]
    out_shape = K.shape(out_kt)
    geo = K.geometry(b, layer, ins, out_kt, dwk)
    mid_shape = out_shape[:-1] + (int(dwk.shape[2] * dwk.shape[3]),)
    dw_w = b.const(f"{layer.name}.depthwise_kernel", dwk, "weight")
    mid = b.add_tensor(Tensor(b.name_for(f"{layer.name}/depthwise"), mid_shape))
    b.ops.append(Op(f"{layer.name}/depthwise", "depthwise_conv2d", (ins[0], dw_w), (mid,),
                    {**geo, "multiplier": int(dwk.shape[3]), "activation": LINEAR}, layer.name))
    pw_w = b.const(f"{layer.name}.pointwise_kernel", pwk, "weight")
    inputs = [mid, pw_w]
    if cfg.get("use_bias", True):
        inputs.append(b.const(f"{layer.name}.bias", weights[2], "bias"))
    out = b.activation_out(layer, out_shape)
    b.ops.append(Op(f"{layer.name}/pointwise", "conv2d", tuple(inputs), (out,), {
        "kernel": tuple(int(x) for x in pwk.shape), "strides": (1, 1), "padding": (0, 0),
        "dilation": (1, 1), "activation": activations.from_keras(cfg["activation"],
                                                                 K.where(layer))},
        layer.name))
    return out


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    o = b.r.options(i, "DepthwiseConv2DOptions")
    x = b.activation(i, ins[0])
    cin = b.tensors[x].shape[-1]

    def to_keras(a: np.ndarray) -> np.ndarray:  # (1, kh, kw, c*m) -> (kh, kw, c, m)
        return a.reshape(a.shape[1], a.shape[2], cin, a.shape[3] // cin)

    # per-channel scales run over the c*m output channels (the last two axes, flattened)
    w = b.const(i, ins[1], "weight", "int8", to_keras, lambda ax: 3)
    kh, kw, c, m = b.tensors[w].shape
    inputs = [x, w]
    _conv.tflite_bias(b, i, ins, inputs, acc32=False)
    y = b.activation(i, outs[0])
    attrs = {"kernel": (kh, kw, c, m), "multiplier": m,
             **_conv.tflite_geometry(b, i, o, x, y, (kh, kw))}
    return Op(f"depthwise_{i}", "depthwise_conv2d", tuple(inputs), (y,), attrs,
              b.r.op_name(i))


class DepthwiseConv2D(OpKind):
    name = "depthwise_conv2d"
    summary = "depthwise 2-D convolution [strides, padding, multiplier, activation]"
    keras = {"DepthwiseConv2D": _keras, "DepthwiseConv1D": _keras,
             "SeparableConv2D": _separable, "SeparableConv1D": _separable}
    tflite = {"DEPTHWISE_CONV_2D": _tflite}
    tflite_int16 = frozenset({"DEPTHWISE_CONV_2D"})
    fusable = True
    folds_bn = True
    const_orders = {1: ((0, 1, 2, 3), "W[kh][kw][c*M + m] = kernel[kh][kw][c][m]")}
    int8_scratch = True

    def macs(self, g: Graph, op: Op) -> int:
        kh, kw = op.attrs["kernel"][:2]
        oh, ow, cout = dims4(g.tensors[op.outputs[0]].shape)
        return oh * ow * cout * kh * kw

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return _conv.reference(g, op, value, depthwise=True)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        g = ctx.g
        a = op.attrs
        p = f"op{i}"
        kh, kw, c, m = a["kernel"]
        out_t = g.tensors[op.outputs[0]]
        bias = ctx.ptr(op.inputs[2]) if len(op.inputs) > 2 else "0"
        prm = ctx.static("armsim_dw_conv_params", f"{p}_params",
                         f"{{{ctx.tile(a['strides'])}, {ctx.tile(a['padding'])}, "
                         f"{ctx.tile(a['dilation'])}, {a['multiplier']}, {ctx.clamp(op)}}}")
        idm = ctx.static("armsim_dims", f"{p}_in", dims(g.tensors[op.inputs[0]].shape))
        fd = ctx.static("armsim_dims", f"{p}_filter", f"{{1, {kh}, {kw}, {c * m}}}")
        od = ctx.static("armsim_dims", f"{p}_out", dims(out_t.shape))
        return [f"armsim_depthwise_conv2d_f32({prm}, {idm}, {ctx.ptr(op.inputs[0])}, {fd}, "
                f"{ctx.ptr(op.inputs[1])}, {bias}, {od}, {ctx.ptr(op.outputs[0], const=False)});"]

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        kh, kw = op.attrs["kernel"][:2]
        out_shape = ctx.g.tensors[op.outputs[0]].shape
        c = _conv.s8_common(ctx, i, op, out_shape)
        p = f"op{i}"
        prm = ctx.static("cmsis_nn_dw_conv_params", f"{p}_params",
                         f"{{{c.input_offset}, {c.output_offset}, {op.attrs['multiplier']}, "
                         f"{c.geometry}}}")
        fd = ctx.static("cmsis_nn_dims", f"{p}_filter", f"{{1, {kh}, {kw}, {out_shape[-1]}}}")
        fn = "arm_depthwise_conv_wrapper_s16" if ctx.s16(op) else \
            "arm_depthwise_conv_wrapper_s8"
        return OpCode([_conv.s8_call(ctx, i, op, fn, prm, fd, c)],
                      f"{fn}_get_buffer_size({prm}, {c.input_dims}, {fd}, {c.output_dims})")

    def scale_weights(self, kernel: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return kernel * scale.reshape(kernel.shape[2], kernel.shape[3])

    def weight_axes(self, shape: tuple[int, ...]) -> tuple[str, ...] | None:
        return ("row", "col", "ch", "mult") if len(shape) == 4 else None


KIND = DepthwiseConv2D()
