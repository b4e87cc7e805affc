"""``prelu``: the parametric ReLU, ``x if x >= 0 else alpha * x`` with a learned alpha per
channel (Keras PReLU shared over every axis but the last), float32 graphs."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops.base import OpKind, Values
from armsim.ops.cgen import FloatContext


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    alpha = np.asarray(layer.get_weights()[0], np.float32)
    shape = b.tensors[ins[0]].shape
    c = shape[-1]
    # a per-channel alpha is (1, ..., 1, C) with shared_axes = every axis but the last
    if alpha.size not in (1, c) or (alpha.size == c and alpha.shape[-1] != c):
        raise ModelError(f"{K.where(layer)}: alpha of shape {list(alpha.shape)}: armsim runs "
                         "a PReLU shared over every axis but the channels (shared_axes)")
    a = b.const(f"{layer.name}.alpha", np.broadcast_to(alpha.reshape(-1), (c,)).copy(),
                "weight")
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "prelu", (ins[0], a), (out,), {}, layer.name))
    return out


class PRelu(OpKind):
    name = "prelu"
    summary = "parametric ReLU, one alpha per channel"
    keras = {"PReLU": _keras}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        x = value(op.inputs[0]).astype(np.float64)
        return np.where(x >= 0, x, value(op.inputs[1]).astype(np.float64) * x)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        t = ctx.g.tensors[op.outputs[0]]
        return [f"armsim_prelu_f32({ctx.ptr(op.inputs[0])}, {t.size}, {t.shape[-1]}, "
                f"{ctx.ptr(op.inputs[1])}, {ctx.ptr(op.outputs[0], const=False)});"]


KIND = PRelu()
