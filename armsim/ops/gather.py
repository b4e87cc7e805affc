"""``gather``: entries of a tensor picked along one axis by constant indices (TFLite GATHER
with batch_dims 0: a channel shuffle, a fixed reordering), float32 and int8 alike, on the
copy kernel: one walk when the indices step evenly, else one per index (each writing its
slice of the output)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _copy
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    x, y = b.activation(i, ins[0]), b.activation(i, outs[0])
    idx = b.r.data(ins[1])
    if idx is None:
        raise ModelError(f"{b.where(i)}: its indices are computed at run time; armsim gathers "
                         "at constant indices")
    o = b.r.options(i, "GatherOptions")
    if o is not None and o.BatchDims():
        raise ModelError(f"{b.where(i)}: batch_dims {o.BatchDims()} is not supported")
    shape = b.tensors[x].shape
    axis = (o.Axis() if o is not None else 0) % (len(shape) + 1)
    if axis == 0:
        raise ModelError(f"{b.where(i)}: gathers along the batch axis; armsim runs batch 1")
    a = axis - 1
    idx = np.asarray(idx).reshape(-1) % shape[a]
    if tuple(shape[:a]) + (len(idx),) + tuple(shape[a + 1:]) != b.tensors[y].shape:
        raise ModelError(f"{b.where(i)}: indices of shape {list(np.shape(b.r.data(ins[1])))}; "
                         "armsim gathers with a list of indices")
    if b.tensors[x].quant is not None:
        T.same_quant(b, i, x, y)
    return Op(f"gather_{i}", "gather", (x,), (y,),
              {"axis": a, "indices": tuple(int(k) for k in idx)}, b.r.op_name(i))


class Gather(OpKind):
    name = "gather"
    summary = "entries picked along an axis by constant indices [axis, indices]"
    tflite = {"GATHER": _tflite}
    tflite_int16 = frozenset(tflite)

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        x = value(op.inputs[0]).reshape(g.tensors[op.inputs[0]].shape)
        return np.take(x, op.attrs["indices"], axis=op.attrs["axis"]).astype(np.float64)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        shape = ctx.g.tensors[op.inputs[0]].shape
        a, idx = op.attrs["axis"], list(op.attrs["indices"])
        step = idx[1] - idx[0] if len(idx) > 1 else 1
        if all(idx[k + 1] - idx[k] == step for k in range(len(idx) - 1)):
            parts = [[_copy.Part(len(idx) if q == a else n, q, step if q == a else 1)]
                     for q, n in enumerate(shape)]
            begin = [idx[0] if q == a else 0 for q in range(len(shape))]
            return _copy.render(ctx, i, op, op.inputs[0], op.outputs[0], parts, begin)
        block = tuple(1 if q == a else n for q, n in enumerate(shape))
        parts = [[_copy.Part(n, q, 1)] for q, n in enumerate(block)]
        calls = []
        for k, v in enumerate(idx):  # input slice v into output slice k
            begin = [v if q == a else 0 for q in range(len(shape))]
            at = [k if q == a else 0 for q in range(len(shape))]
            calls += _copy.render(ctx, i, op, op.inputs[0], op.outputs[0], parts, begin,
                                  f"_{k}", at, block)
        return calls

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        return OpCode(self.render_f32(ctx, i, op))  # type: ignore[arg-type]


KIND = Gather()
