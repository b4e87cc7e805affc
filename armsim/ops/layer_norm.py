"""Keras LayerNormalization over the last axis, lowered on reading into ops of other kinds
(like ``recurrent``, this kind never appears in a graph), float32, in the order Keras 3
computes it: ``mean`` and ``mean`` of the ``square`` (moments: variance = E[x^2] - E[x]^2),
``sub``, ``scale_shift`` (+ epsilon), ``rsqrt``, then ``(x - mean) * inv`` (``sub``, ``mul``
with ``broadcast`` operands) and ``gamma``/``beta`` (``scale_shift``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import LINEAR, Activation, Graph, Op, Tensor
from armsim.ops import _copy
from armsim.ops import _keras as K
from armsim.ops.base import OpKind, Values


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    cfg = layer.get_config()
    shape = b.tensors[ins[0]].shape
    axis = cfg.get("axis", -1)
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    if axis not in ((-1,), (len(shape),)):
        raise ModelError(f"{K.where(layer)}: normalises axis {list(axis)}; armsim runs the "
                         "last axis only")
    if cfg.get("rms_scaling"):
        raise ModelError(f"{K.where(layer)}: rms_scaling=True is not supported")
    c = shape[-1]
    rows = int(np.prod(shape[:-1], dtype=np.int64))
    small = (*shape[:-1], 1)
    name = layer.name

    def tensor(tag: str, shp: tuple[int, ...]) -> str:
        return b.add_tensor(Tensor(b.name_for(f"{name}/{tag}"), shp, "float32", "activation",
                                   layer=name))

    def op(tag: str, kind: str, inputs: tuple[str, ...], out: str, **attrs: Any) -> str:
        b.ops.append(Op(f"{name}/{tag}", kind, inputs, (out,), attrs, name))
        return out

    def mean(tag: str, x: str) -> str:
        return op(tag, "mean", (x,), tensor(tag, small), axes=(len(shape) - 1,), outer=rows,
                  span=c, inner=1)

    def unary(tag: str, kind: str, x: str) -> str:
        return op(tag, "activation", (x,), tensor(tag, b.tensors[x].shape),
                  activation=Activation(kind))

    def wide(x: str) -> str:  # a (..., 1) statistic spelled out over the channels
        made, y = _copy.spelled_out(b.tensors, x, shape, name)
        if made is not None:
            b.ops.append(made)
        return y

    x = ins[0]
    m = mean("mean", x)
    m2 = mean("mean_sq", unary("sq", "square", x))
    var = op("var", "sub", (m2, unary("mean2", "square", m)), tensor("var", small),
             activation=LINEAR)
    eps = float(cfg.get("epsilon", 1e-3))
    one = b.const(f"{name}.one", np.ones(1, np.float32), "weight")
    e = b.const(f"{name}.epsilon", np.full(1, eps, np.float32), "bias")
    v = op("var_eps", "scale_shift", (var, one, e), tensor("var_eps", small),
           activation=LINEAR)
    inv = unary("rsqrt", "rsqrt", v)
    d = op("centred", "sub", (x, wide(m)), tensor("centred", shape), activation=LINEAR)
    n = op("normed", "mul", (d, wide(inv)), tensor("normed", shape), activation=LINEAR)
    weights = {w.path.split("/")[-1]: np.asarray(w.numpy(), np.float32) for w in layer.weights}
    gamma = weights.get("gamma", np.ones(c, np.float32)).reshape(-1)
    beta = weights.get("beta", np.zeros(c, np.float32)).reshape(-1)
    g = b.const(f"{name}.gamma", gamma, "weight")
    bt = b.const(f"{name}.beta", beta, "bias")
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(name, "scale_shift", (n, g, bt), (out,), {"activation": LINEAR}, name))
    return out


class LayerNorm(OpKind):
    name = "layer_norm"
    summary = ("Keras LayerNormalization, lowered on reading into mean, square, sub, "
               "scale_shift, rsqrt, mul and broadcast ops (never in a graph)")
    keras = {"LayerNormalization": _keras}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        raise ModelError(f"op {op.name}: LayerNormalization is lowered on reading")


KIND = LayerNorm()
