"""``conv2d_transpose``: transposed 2-D convolution (Keras Conv2DTranspose, Conv1DTranspose;
float32 graphs), computed as a gather: each output cell sums the input cells and taps that
reach it. Weights kept in Keras' order, [kh][kw][out][in]."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops import activations
from armsim.ops._conv import hwc
from armsim.ops.base import OpKind, Values
from armsim.ops.cgen import FloatContext, dims


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    K.channels_last(layer)
    if any(d != 1 for d in K.pair(cfg.get("dilation_rate", 1))):
        raise ModelError(f"{K.where(layer)}: dilated transposed convolution is not supported")
    if cfg.get("output_padding") not in (None, [None, None], (None, None)):
        raise ModelError(f"{K.where(layer)}: output_padding is not supported")
    weights = layer.get_weights()
    kernel = weights[0]
    if kernel.ndim == 3:  # Conv1DTranspose: (k, out, in) -> (1, k, out, in)
        kernel = kernel[np.newaxis]
    kh, kw, cout, cin = (int(d) for d in kernel.shape)
    sy, sx = K.pair(cfg["strides"])
    (h, w), (oh, ow) = K.spatial(b.tensors[ins[0]].shape), K.spatial(K.shape(out_kt))
    # SAME: the output is H * s; what the full scatter makes beyond it is cut, half before
    top = max((h - 1) * sy + kh - oh, 0) // 2 if cfg["padding"] == "same" else 0
    left = max((w - 1) * sx + kw - ow, 0) // 2 if cfg["padding"] == "same" else 0
    inputs = [ins[0], b.const(f"{layer.name}.kernel", kernel, "weight")]
    if cfg.get("use_bias", True):
        inputs.append(b.const(f"{layer.name}.bias", weights[1], "bias"))
    out = b.activation_out(layer, K.shape(out_kt))
    attrs = {"kernel": (kh, kw, cout, cin), "strides": (sy, sx), "padding": (top, left),
             "activation": activations.from_keras(cfg["activation"], K.where(layer))}
    b.ops.append(Op(layer.name, "conv2d_transpose", tuple(inputs), (out,), attrs, layer.name))
    return out


class Conv2DTranspose(OpKind):
    name = "conv2d_transpose"
    summary = "transposed 2-D convolution [strides, padding, activation]"
    keras = {"Conv2DTranspose": _keras, "Conv1DTranspose": _keras}
    fusable = True

    def macs(self, g: Graph, op: Op) -> int:
        kh, kw, cout, cin = op.attrs["kernel"]
        return g.tensors[op.inputs[0]].size * kh * kw * cout

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        kh, kw, cout, cin = op.attrs["kernel"]
        sy, sx = op.attrs["strides"]
        top, left = op.attrs["padding"]
        x = hwc(value(op.inputs[0])).astype(np.float64)
        w = value(op.inputs[1]).astype(np.float64).reshape(kh, kw, cout, cin)
        oh, ow, _c = hwc(np.zeros(g.tensors[op.outputs[0]].shape)).shape
        full = np.zeros(((x.shape[0] - 1) * sy + kh, (x.shape[1] - 1) * sx + kw, cout))
        for iy in range(x.shape[0]):
            for ix in range(x.shape[1]):
                full[iy * sy:iy * sy + kh, ix * sx:ix * sx + kw] += w @ x[iy, ix]
        y = full[top:top + oh, left:left + ow]
        if len(op.inputs) > 2:
            y = y + value(op.inputs[2]).astype(np.float64)
        return y

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        g = ctx.g
        kh, kw, cout, cin = op.attrs["kernel"]
        sy, sx = op.attrs["strides"]
        top, left = op.attrs["padding"]
        idm = ctx.static("armsim_dims", f"op{i}_in", dims(g.tensors[op.inputs[0]].shape))
        od = ctx.static("armsim_dims", f"op{i}_out", dims(g.tensors[op.outputs[0]].shape))
        cl = ctx.static("armsim_clamp", f"op{i}_clamp", ctx.clamp(op))
        bias = ctx.ptr(op.inputs[2]) if len(op.inputs) > 2 else "0"
        return [f"armsim_conv2d_transpose_f32({cl}, {idm}, {ctx.ptr(op.inputs[0])}, {kh}, "
                f"{kw}, {sy}, {sx}, {top}, {left}, {ctx.ptr(op.inputs[1])}, {bias}, {od}, "
                f"{ctx.ptr(op.outputs[0], const=False)});"]


KIND = Conv2DTranspose()
