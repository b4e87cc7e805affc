"""``scale_shift``: ``x * scale + shift`` per channel (Keras BatchNormalization that cannot
fold into the op before it, Rescaling, Normalization)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import LINEAR, Graph, Op
from armsim.ops import _keras as K
from armsim.ops.base import OpKind, Values
from armsim.ops.cgen import FloatContext


def standalone(b: Any, layer: Any, src: str, scale: np.ndarray, shift: np.ndarray,
               out_kt: Any) -> str:
    """A scale_shift op of scalar or per-channel (last axis) ``scale`` and ``shift``."""
    c = b.tensors[src].shape[-1]
    scale = np.broadcast_to(np.asarray(scale, np.float64).reshape(-1), (c,)) \
        if np.asarray(scale).size in (1, c) else None
    shift = np.broadcast_to(np.asarray(shift, np.float64).reshape(-1), (c,)) \
        if np.asarray(shift).size in (1, c) else None
    if scale is None or shift is None:
        raise ModelError(f"{K.where(layer)}: only scalar or per-channel (last axis) scaling is "
                         "supported")
    s = b.const(f"{layer.name}.scale", scale.astype(np.float32), "weight")
    t = b.const(f"{layer.name}.shift", shift.astype(np.float32), "bias")
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "scale_shift", (src, s, t), (out,), {"activation": LINEAR},
                    layer.name))
    return out


def _batch_norm(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    """Folded into the Conv/Depthwise/Dense before it when nothing else reads that op's
    output (W' = W * scale per output channel, b' = b * scale + shift), else its own op."""
    cfg = layer.get_config()
    axis = cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    rank = len(b.tensors[ins[0]].shape)
    if axis not in (-1, rank):
        raise ModelError(f"{K.where(layer)}: normalises axis {axis}; only the channel (last) "
                         "axis is supported")
    gamma = np.asarray(layer.gamma.numpy() if cfg.get("scale", True) else 1.0, np.float64)
    beta = np.asarray(layer.beta.numpy() if cfg.get("center", True) else 0.0, np.float64)
    mean = np.asarray(layer.moving_mean.numpy(), np.float64)
    var = np.asarray(layer.moving_variance.numpy(), np.float64)
    scale = gamma / np.sqrt(var + float(cfg.get("epsilon", 1e-3)))
    shift = beta - mean * scale
    scale = np.broadcast_to(scale, mean.shape)
    shift = np.broadcast_to(shift, mean.shape)
    if b.fold_scale(ins[0], scale, shift, layer.name):
        return ins[0]
    return standalone(b, layer, ins[0], scale, shift, out_kt)


def _rescaling(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    return standalone(b, layer, ins[0], np.asarray(cfg["scale"], np.float64),
                      np.asarray(cfg["offset"], np.float64), out_kt)


def _layer_scale(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    """keras.applications' LayerScale (ConvNeXt): x times a per-channel gamma."""
    weights = layer.get_weights()
    if len(weights) != 1:
        raise ModelError(f"{K.where(layer)}: a LayerScale with {len(weights)} weights")
    gamma = np.asarray(weights[0], np.float64).reshape(-1)
    return standalone(b, layer, ins[0], gamma, np.zeros_like(gamma), out_kt)


def _keras_op(kind: str) -> Any:
    """A keras.ops arithmetic node (``x + 3.0``, ``x * (1 / 6)``, ``x / c``, ``c - x``: a
    scalar or per-channel constant with one tensor) as a scale_shift; between two tensors
    (``x * y``), the element-wise op of that kind, broadcast."""
    tensor_op = K.elementwise({"div": "divide"}.get(kind, kind), 2)

    def handler(b: Any, node: Any, ins: list[str], out_kt: Any) -> str:
        args = list(node.args)
        is_t = [hasattr(a, "shape") and hasattr(a, "dtype") and not isinstance(a, np.ndarray)
                for a in args]
        if len(args) != 2:
            raise ModelError(f"{K.where(node)}: {len(args)} operands; armsim reads two")
        if all(is_t):
            return tensor_op(b, node, ins, out_kt)
        if not any(is_t):
            raise ModelError(f"{K.where(node)}: no tensor operand")
        c = np.asarray(args[1] if is_t[0] else args[0], np.float64)
        first = is_t[0]
        if kind == "add":
            scale, shift = np.ones(1), c
        elif kind == "sub":
            scale, shift = (np.ones(1), -c) if first else (-np.ones(1), c)
        elif kind == "mul":
            scale, shift = c, np.zeros(1)
        elif first:  # x / c
            scale, shift = 1.0 / c, np.zeros(1)
        else:
            raise ModelError(f"{K.where(node)}: a constant divided by a tensor is not supported")
        return standalone(b, node, ins[0], scale, shift, out_kt)
    return handler


def _normalization(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    if cfg.get("invert"):
        raise ModelError(f"{K.where(layer)}: invert=True is not supported")
    axis = cfg.get("axis", -1)
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    if axis not in ((-1,), (len(b.tensors[ins[0]].shape),)):
        raise ModelError(f"{K.where(layer)}: normalises axis {axis}; only the channel (last) "
                         "axis is supported")
    mean = np.asarray(layer.mean, np.float64).reshape(-1)
    var = np.asarray(layer.variance, np.float64).reshape(-1)
    eps = float(b.keras.backend.epsilon())
    scale = 1.0 / np.maximum(np.sqrt(var), eps)
    return standalone(b, layer, ins[0], scale, -mean * scale, out_kt)


class ScaleShift(OpKind):
    name = "scale_shift"
    summary = "x * scale + shift per channel (BatchNorm, Rescaling, Normalization)"
    keras = {"BatchNormalization": _batch_norm, "Rescaling": _rescaling,
             "Normalization": _normalization, "LayerScale": _layer_scale,
             # keras.ops arithmetic in a functional graph (MobileNetV3's hard_sigmoid)
             "ops.Add": _keras_op("add"), "ops.Subtract": _keras_op("sub"),
             "ops.Multiply": _keras_op("mul"), "ops.TrueDivide": _keras_op("div"),
             "ops.Divide": _keras_op("div")}
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return value(op.inputs[0]).astype(np.float64) * value(op.inputs[1]) + \
            value(op.inputs[2])

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        out_t = ctx.g.tensors[op.outputs[0]]
        cl = ctx.static("armsim_clamp", f"op{i}_clamp", ctx.clamp(op))
        return [f"armsim_scale_shift_f32({cl}, {ctx.ptr(op.inputs[0])}, {out_t.size}, "
                f"{out_t.shape[-1]}, {ctx.ptr(op.inputs[1])}, {ctx.ptr(op.inputs[2])}, "
                f"{ctx.ptr(op.outputs[0], const=False)});"]


KIND = ScaleShift()
