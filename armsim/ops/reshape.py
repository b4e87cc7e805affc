"""``reshape``: the same memory under a new shape; no code runs (Keras Flatten and Reshape;
TFLite RESHAPE, EXPAND_DIMS, SQUEEZE)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "reshape", (ins[0],), (out,), {}, layer.name))
    return out


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    """Only the data operand is read. The output's shape is the file's, unless the shape
    operand is computed (a dynamic batch: SHAPE, GATHER, REDUCE_PROD, PACK ...) and gives
    another: then the value that arithmetic has with batch 1 (the frontend folds it)."""
    x = b.activation(i, ins[0])
    size = b.tensors[x].size
    shape = None
    if b.r.op_name(i) == "RESHAPE" and len(ins) > 1 and ins[1] >= 0 and \
            int(np.prod(b.r.shape(outs[0]), dtype=np.int64)) != size:
        target = b.fold(ins[1])
        if target is not None:
            t = [int(d) for d in np.asarray(target).reshape(-1)]
            if t.count(-1) == 1:
                known = int(np.prod([d for d in t if d != -1], dtype=np.int64))
                t[t.index(-1)] = size // known if known else 0
            if int(np.prod(t, dtype=np.int64)) == size and t and t[0] == 1:
                shape = tuple(t)
    y = b.activation(i, outs[0], shape=shape)
    T.same_quant(b, i, x, y)
    return Op(f"reshape_{i}", "reshape", (x,), (y,), {}, b.r.op_name(i))


class Reshape(OpKind):
    name = "reshape"
    summary = "same memory, new shape (Flatten, Reshape)"
    keras = {"Flatten": _keras, "Reshape": _keras}
    tflite = {"RESHAPE": _tflite, "EXPAND_DIMS": _tflite, "SQUEEZE": _tflite}
    tflite_int16 = frozenset(tflite)
    alias = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return value(op.inputs[0]).astype(np.float64)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return []

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        return OpCode([])


KIND = Reshape()
