"""``transpose``: a permutation of the axes of a tensor (Keras Permute; TFLite TRANSPOSE with
a constant permutation that keeps the batch axis first), float32 and int8 alike (a copy:
the int8 values keep their quantization) on the gather kernel."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _copy
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    dims = tuple(int(d) - 1 for d in layer.get_config()["dims"])  # Keras counts from 1
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "transpose", (ins[0],), (out,), {"perm": dims}, layer.name))
    return out


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Any:
    """TRANSPOSE. One that moves the batch axis (a recurrent layer's time-major sequence) is
    no op: its output is kept as a view of its input (Builder.views), and one that undoes
    such a permutation is its input again."""
    perm = b.fold(ins[1])
    if perm is None:
        raise ModelError(f"{b.where(i)}: its permutation is computed at run time")
    view = b.view(ins[0]) if hasattr(b, "view") else None
    if view is not None:
        x, first = view
    else:
        x, first = b.activation(i, ins[0]), None
    rank = len(b.tensors[x].shape) + 1
    perm = [int(p) % rank for p in np.asarray(perm).reshape(-1)]
    if first is not None:  # compose: output axis j is the view's axis perm[j]
        perm = [first[p] for p in perm]
    if perm[0] != 0:
        b.views[outs[0]] = (x, tuple(perm))
        return []
    if perm == list(range(rank)):
        b.alias(outs[0], x)
        return []
    y = b.activation(i, outs[0])
    if b.tensors[x].quant is not None:
        T.same_quant(b, i, x, y)
    return Op(f"transpose_{i}", "transpose", (x,), (y,),
              {"perm": tuple(p - 1 for p in perm[1:])}, b.r.op_name(i))


class Transpose(OpKind):
    name = "transpose"
    summary = "axis permutation [perm]"
    keras = {"Permute": _keras}
    tflite = {"TRANSPOSE": _tflite}
    tflite_int16 = frozenset(tflite)

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        x = value(op.inputs[0]).astype(np.float64)
        return np.transpose(x.reshape(g.tensors[op.inputs[0]].shape), op.attrs["perm"])

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        shape = ctx.g.tensors[op.inputs[0]].shape
        parts = [[_copy.Part(shape[p], p, 1)] for p in op.attrs["perm"]]
        return _copy.render(ctx, i, op, op.inputs[0], op.outputs[0], parts, [0] * len(shape))

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        return OpCode(self.render_f32(ctx, i, op))  # type: ignore[arg-type]


KIND = Transpose()
