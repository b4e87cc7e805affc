"""``transpose``: a permutation of the axes of a tensor of up to three axes (Keras Permute),
float32 graphs."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops.base import OpKind, Values
from armsim.ops.cgen import FloatContext


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    dims = tuple(int(d) - 1 for d in layer.get_config()["dims"])  # Keras counts from 1
    if len(dims) > 3:
        raise ModelError(f"{K.where(layer)}: a permutation of {len(dims)} axes; armsim permutes "
                         "up to three")
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "transpose", (ins[0],), (out,), {"perm": dims}, layer.name))
    return out


def _three(shape: tuple[int, ...], perm: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """The input's shape and the permutation padded to three axes (leading ones)."""
    pad = 3 - len(shape)
    return (1,) * pad + tuple(shape), tuple(range(pad)) + tuple(p + pad for p in perm)


class Transpose(OpKind):
    name = "transpose"
    summary = "axis permutation [perm]"
    keras = {"Permute": _keras}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        x = value(op.inputs[0]).astype(np.float64)
        return np.transpose(x.reshape(g.tensors[op.inputs[0]].shape), op.attrs["perm"])

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        shape, perm = _three(ctx.g.tensors[op.inputs[0]].shape, op.attrs["perm"])
        # the input stride of each output axis, in output order
        strides = (shape[1] * shape[2], shape[2], 1)
        d0, d1, d2 = (shape[p] for p in perm)
        s0, s1, s2 = (strides[p] for p in perm)
        return [f"armsim_transpose_f32({ctx.ptr(op.inputs[0])}, {d0}, {d1}, {d2}, {s0}, {s1}, "
                f"{s2}, {ctx.ptr(op.outputs[0], const=False)});"]


KIND = Transpose()
