"""``conv2d_transpose``: transposed 2-D convolution (Keras Conv2DTranspose, Conv1DTranspose;
TFLite TRANSPOSE_CONV, float32 and int8), computed as a gather: each output cell sums the
input cells and taps that reach it (for int8, TFLite's reference integer arithmetic with
per-channel requantization: the integer sum does not depend on its order). Weights kept in
Keras' order, [kh][kw][out][in]."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops import activations
from armsim.ops._conv import hwc
from armsim.ops._tflite import fused
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context, dims


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


def _out_size(padding: str, image: int, filt: int, stride: int) -> int:
    """TFLite's ComputeOutSize (the forward convolution the transposed one undoes)."""
    return (image + stride - 1) // stride if padding == "same" else \
        (image + stride - filt) // stride


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    """TRANSPOSE_CONV: operands (output shape, weights [out][kh][kw][in], input, bias)."""
    o = b.r.options(i, "TransposeConvOptions")
    x = b.activation(i, ins[2])
    w = b.const(i, ins[1], "weight", "int8", lambda a: a.transpose(1, 2, 0, 3),
                lambda ax: {0: 2}.get(ax, ax))
    kh, kw, cout, cin = b.tensors[w].shape
    if b.tensors[x].shape[-1] != cin:
        raise ModelError(f"{b.where(i)}: input channels do not match the weights")
    inputs = [x, w]
    if len(ins) > 3 and ins[3] >= 0:
        inputs.append(b.const(i, ins[3], "bias", "int32"))
    y = b.activation(i, outs[0])
    sy, sx = int(o.StrideH()), int(o.StrideW())
    padding = "same" if o.Padding() == 0 else "valid"
    oh, ow = K.spatial(b.tensors[y].shape)
    pads = []
    for out, k, s in ((oh, kh, sy), (ow, kw, sx)):
        fwd = _out_size(padding, out, k, s)
        pads.append(max((fwd - 1) * s + k - out, 0) // 2)
    act = fused(b, i, getattr(o, "FusedActivationFunction", lambda: 0)())
    attrs = {"kernel": (kh, kw, cout, cin), "strides": (sy, sx), "padding": tuple(pads),
             "activation": act}
    return Op(f"transpose_conv_{i}", "conv2d_transpose", tuple(inputs), (y,), attrs,
              b.r.op_name(i))


class Conv2DTranspose(OpKind):
    name = "conv2d_transpose"
    summary = "transposed 2-D convolution [strides, padding, activation]"
    keras = {"Conv2DTranspose": _keras, "Conv1DTranspose": _keras}
    tflite = {"TRANSPOSE_CONV": _tflite}
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


    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        g = ctx.g
        kh, kw, cout, cin = op.attrs["kernel"]
        sy, sx = op.attrs["strides"]
        top, left = op.attrs["padding"]
        ih, iw, _c = hwc(np.zeros(g.tensors[op.inputs[0]].shape)).shape
        oh, ow, _c = hwc(np.zeros(g.tensors[op.outputs[0]].shape)).shape
        qi, qw, qo = ctx.quant(op.inputs[0]), ctx.quant(op.inputs[1]), ctx.quant(op.outputs[0])
        scales = qw.scales if qw.per_channel else qw.scales * cout
        mult, shift = Q.channel_multipliers(qi.scale, scales, qo.scale)
        m = ctx.array("int32_t", f"op{i}_mult", mult)
        s = ctx.array("int32_t", f"op{i}_shift", shift)
        lo, hi = Q.activation_range(op.activation, qo)
        prm = ctx.static("armsim_transpose_conv_s8_params", f"op{i}_params",
                         f"{{{ih}, {iw}, {cin}, {oh}, {ow}, {cout}, {kh}, {kw}, {sy}, {sx}, "
                         f"{top}, {left}, {-qi.zero_point}, {qo.zero_point}, {lo}, {hi}, "
                         f"{m}, {s}}}")
        bias = ctx.ptr(op.inputs[2], "int32_t") if len(op.inputs) > 2 else "0"
        return OpCode([f"armsim_transpose_conv_s8({prm}, {ctx.ptr(op.inputs[0])}, "
                       f"{ctx.ptr(op.inputs[1])}, {bias}, "
                       f"{ctx.ptr(op.outputs[0], const=False)});"])


KIND = Conv2DTranspose()
