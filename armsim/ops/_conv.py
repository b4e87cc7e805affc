"""What the two convolution kinds (``conv2d``, ``depthwise_conv2d``) share: the numpy
convolution, the Keras reader and the TFLite geometry, and the common parts of their s8
CMSIS-NN calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Op, Tensor, dims4
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops import activations
from armsim.ops.cgen import Int8Context, dims


def hwc(x: np.ndarray) -> np.ndarray:
    """An activation as (h, w, c)."""
    return x.reshape(dims4(x.shape))


def padded(x: np.ndarray, top: int, left: int, oh: int, ow: int, kh: int, kw: int,
           sh: int, sw: int, dh: int, dw: int, fill: float = 0.0) -> np.ndarray:
    """Input zero-padded (or ``fill``-padded) so every window of the output is in range."""
    h, w, _c = x.shape
    need_h = (oh - 1) * sh + (kh - 1) * dh + 1
    need_w = (ow - 1) * sw + (kw - 1) * dw + 1
    bottom = max(need_h - h - top, 0)
    right = max(need_w - w - left, 0)
    return np.pad(x, ((top, bottom), (left, right), (0, 0)), constant_values=fill)


def conv2d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None, out_shape: tuple[int, ...],
           strides: tuple[int, int], padding: tuple[int, int], dilation: tuple[int, int],
           depthwise: bool = False) -> np.ndarray:
    """Convolution of an (h, w, c) input in float64; kernel (kh, kw, cin, cout|multiplier)."""
    x = hwc(x).astype(np.float64)
    kh, kw, cin, m = kernel.shape
    oh, ow, cout = dims4(out_shape)
    sh, sw = strides
    dh, dw = dilation
    xp = padded(x, padding[0], padding[1], oh, ow, kh, kw, sh, sw, dh, dw)
    out = np.zeros((oh, ow, cout), np.float64)
    k = kernel.astype(np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[i * dh: i * dh + (oh - 1) * sh + 1: sh,
                       j * dw: j * dw + (ow - 1) * sw + 1: sw, :]
            if depthwise:
                out += (patch[:, :, :, None] * k[i, j][None, None]).reshape(oh, ow, cin * m)
            else:
                out += patch @ k[i, j]
    if bias is not None:
        out += bias.astype(np.float64)
    return out


def reference(g: Any, op: Op, value: Any, depthwise: bool) -> np.ndarray:
    """The numpy output of a conv/depthwise op (float64, before its activation)."""
    a = op.attrs
    bias = value(op.inputs[2]) if len(op.inputs) > 2 else None
    return conv2d(value(op.inputs[0]), value(op.inputs[1]), bias,
                  g.tensors[op.outputs[0]].shape, a["strides"], a["padding"], a["dilation"],
                  depthwise)


def keras(kind: str, b: Any, layer: Any, ins: list[str], out_kt: Any,
          depthwise: bool = False) -> str:
    """Conv1D/2D, or (``depthwise``) DepthwiseConv1D/2D, into one op of ``kind``."""
    cfg = layer.get_config()
    K.channels_last(layer)
    weights = layer.get_weights()
    kernel = weights[0]
    if kernel.ndim == 3:  # 1-D layers: (k, in, out|mult) -> (1, k, in, out|mult)
        kernel = kernel[np.newaxis]
    groups = int(cfg.get("groups", 1))
    if groups != 1 and not depthwise:
        return _grouped(b, layer, ins, out_kt, kernel, groups)
    attrs = K.geometry(b, layer, ins, out_kt, kernel)
    if depthwise:
        attrs["multiplier"] = int(kernel.shape[3])
    inputs = [ins[0], b.const(f"{layer.name}.kernel", kernel, "weight")]
    if cfg.get("use_bias", True):
        inputs.append(b.const(f"{layer.name}.bias", weights[1], "bias"))
    out = b.activation_out(layer, K.shape(out_kt))
    attrs["activation"] = activations.from_keras(cfg["activation"], K.where(layer))
    b.ops.append(Op(layer.name, kind, tuple(inputs), (out,), attrs, layer.name))
    return out


def _grouped(b: Any, layer: Any, ins: list[str], out_kt: Any, kernel: np.ndarray,
             groups: int) -> str:
    """A Conv1D/2D with ``groups`` > 1: one input channel per group is a depthwise
    convolution (ConvNeXt's, written as Conv2D(groups=channels)); otherwise a ``slice`` of
    each group's input channels, a ``conv2d`` each, and a ``concat`` of their outputs."""
    cfg = layer.get_config()
    weights = layer.get_weights()
    bias = weights[1] if cfg.get("use_bias", True) else None
    act = activations.from_keras(cfg["activation"], K.where(layer))
    kh, kw, ci_g, cout = kernel.shape
    co_g = cout // groups
    geo = K.geometry(b, layer, ins, out_kt, kernel)
    out_shape = K.shape(out_kt)
    out = b.activation_out(layer, out_shape)
    if ci_g == 1:  # output channel c * m + j reads input channel c: depthwise, multiplier m
        dw = kernel.reshape(kh, kw, groups, co_g)
        inputs = [ins[0], b.const(f"{layer.name}.kernel", dw, "weight")]
        if bias is not None:
            inputs.append(b.const(f"{layer.name}.bias", bias, "bias"))
        b.ops.append(Op(layer.name, "depthwise_conv2d", tuple(inputs), (out,),
                        {**geo, "kernel": (kh, kw, groups, co_g), "multiplier": co_g,
                         "activation": act}, layer.name))
        return out
    in_shape = b.tensors[ins[0]].shape
    rank = len(in_shape)
    parts = []
    for g in range(groups):
        part = b.add_tensor(Tensor(b.name_for(f"{layer.name}/group{g}/input"),
                                   (*in_shape[:-1], ci_g), "float32", "activation"))
        b.ops.append(Op(f"{layer.name}/group{g}/input", "slice", (ins[0],), (part,),
                        {"begin": (0,) * (rank - 1) + (g * ci_g,), "step": (1,) * rank,
                         "keep": tuple(range(rank))}, layer.name))
        inputs = [part, b.const(f"{layer.name}.kernel{g}",
                                kernel[..., g * co_g:(g + 1) * co_g], "weight")]
        if bias is not None:
            inputs.append(b.const(f"{layer.name}.bias{g}", bias[g * co_g:(g + 1) * co_g],
                                  "bias"))
        y = b.add_tensor(Tensor(b.name_for(f"{layer.name}/group{g}"),
                                (*out_shape[:-1], co_g), "float32", "activation"))
        b.ops.append(Op(f"{layer.name}/group{g}", "conv2d", tuple(inputs), (y,),
                        {**geo, "kernel": (kh, kw, ci_g, co_g), "activation": act},
                        layer.name))
        parts.append(y)
    b.ops.append(Op(f"{layer.name}/concat", "concat", tuple(parts), (out,),
                    {"axis": len(out_shape) - 1}, layer.name))
    return out


def tflite_geometry(b: Any, i: int, o: Any, x: str, y: str, k: tuple[int, int]
                    ) -> dict[str, Any]:
    """Strides, dilation, padding and fused activation of a TFLite convolution's options."""
    strides, dil = (o.StrideH(), o.StrideW()), (o.DilationHFactor(), o.DilationWFactor())
    return {"strides": strides, "dilation": dil,
            "padding": T.pads(o.Padding(), T.hw(b.tensors[x].shape), k, strides, dil,
                              T.hw(b.tensors[y].shape)),
            "activation": T.fused(b, i, o.FusedActivationFunction())}


def tflite_bias(b: Any, i: int, ins: list[int], inputs: list[str], options: Any = None,
                acc32: bool = True) -> dict[str, Any]:
    """Append the bias operand when the operator has one: int32; int64 in a 16x8 file, or
    int32 where its converter was asked for int32 biases (``acc32``: the kernel takes
    those). Returns the 16x8 op's attrs: ``acc32`` True where TFLM accumulates in 32 bits
    and requantizes with the full multiplier (an int32 bias, or none and the ``options``'
    quantized_bias_type INT32), else in 64 bits with a 16-bit one."""
    has = len(ins) > 2 and ins[2] >= 0
    want = b.bias_dtype
    if has and b.int16 and b.r.dtype(ins[2]) == "int32":
        if not acc32:
            raise ModelError(f"{b.where(i)}: an int32 bias in a 16x8 model: CMSIS-NN's and "
                             "TFLM's s16 kernel of this operator take int64 biases")
        want = "int32"
    if has:
        inputs.append(b.const(i, ins[2], "bias", want))
    if not b.int16:
        return {}
    if has:
        return {"acc32": want == "int32"}
    bias_type = options.QuantizedBiasType() if hasattr(options, "QuantizedBiasType") else 0
    return {"acc32": bias_type == 2}  # TensorType INT32


@dataclass(frozen=True)
class S8Conv:
    """The parts a conv and a depthwise s8 call share."""

    quant: str  # &per-channel quant params
    input_dims: str
    output_dims: str
    bias_dims: str
    bias: str
    geometry: str  # stride, padding, dilation, activation initializers
    input_offset: int
    output_offset: int


def s8_common(ctx: Int8Context, i: int, op: Op, out_shape: tuple[int, ...]) -> S8Conv:
    """Per-channel quantization, dims, bias and geometry of op ``i``'s s8 call."""
    g = ctx.g
    a = op.attrs
    p = f"op{i}"
    qi, qo = ctx.quant(op.inputs[0]), ctx.quant(op.outputs[0])
    cout = out_shape[-1]
    qp = ctx.per_channel(p, op, cout)
    idm = ctx.static("cmsis_nn_dims", f"{p}_in", dims(g.tensors[op.inputs[0]].shape))
    od = ctx.static("cmsis_nn_dims", f"{p}_out", dims(out_shape))
    bd = ctx.static("cmsis_nn_dims", f"{p}_bias", f"{{1, 1, 1, {cout}}}")
    bias = ctx.ptr(op.inputs[2]) if len(op.inputs) > 2 else "0"
    if ctx.s16(op) and op.kind == "conv2d":  # int64 or int32 bias, a tagged pointer
        bias = ctx.static("cmsis_nn_bias_data", f"{p}_bias_data",
                          f"{{{bias}, {'true' if a.get('acc32') else 'false'}}}")
    geo = f"{ctx.tile(a['strides'])}, {ctx.tile((a['padding'][0], a['padding'][1]))}, " \
          f"{ctx.tile(a['dilation'])}, {ctx.act(op)}"
    return S8Conv(qp, idm, od, bd, bias, geo, -qi.zero_point, qo.zero_point)


def s8_call(ctx: Int8Context, i: int, op: Op, fn: str, prm: str, fd: str, c: S8Conv) -> str:
    """The checked call of a CMSIS-NN convolution wrapper with its scratch context."""
    return (f"cmsis_nn_context ctx = {ctx.scratch(i)};\n"
            f"    ARMSIM_CHECK({i}, {fn}(&ctx, {prm}, {c.quant}, {c.input_dims}, "
            f"{ctx.ptr(op.inputs[0])}, {fd}, {ctx.ptr(op.inputs[1])}, {c.bias_dims}, {c.bias}, "
            f"{c.output_dims}, {ctx.ptr(op.outputs[0], const=False)}));")
