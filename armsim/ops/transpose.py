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


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    x, y = b.activation(i, ins[0]), b.activation(i, outs[0])
    perm = b.fold(ins[1])
    if perm is None:
        raise ModelError(f"{b.where(i)}: its permutation is computed at run time")
    perm = [int(p) % (len(b.tensors[x].shape) + 1) for p in np.asarray(perm).reshape(-1)]
    if perm[0] != 0:
        raise ModelError(f"{b.where(i)}: moves the batch axis; armsim runs batch 1")
    if b.tensors[x].quant is not None:
        T.same_quant(b, i, x, y)
    return Op(f"transpose_{i}", "transpose", (x,), (y,),
              {"perm": tuple(p - 1 for p in perm[1:])}, b.r.op_name(i))


class Transpose(OpKind):
    name = "transpose"
    summary = "axis permutation [perm]"
    keras = {"Permute": _keras}
    tflite = {"TRANSPOSE": _tflite}

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
