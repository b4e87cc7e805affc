"""``tile``: a tensor repeated along its axes (TFLite TILE with constant multiples that keep
the batch axis whole), float32 and int8 alike, on the gather kernel: each tiled axis is
walked twice, the repeats outside (stride 0), the axis inside."""

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
    reps = b.fold(ins[1])
    if reps is None:
        raise ModelError(f"{b.where(i)}: its multiples are computed at run time")
    reps = [int(r) for r in np.asarray(reps).reshape(-1)]
    if reps[0] != 1:
        raise ModelError(f"{b.where(i)}: tiles the batch axis; armsim runs batch 1")
    shape = b.tensors[x].shape
    if tuple(n * r for n, r in zip(shape, reps[1:])) != b.tensors[y].shape:
        raise ModelError(f"{b.where(i)}: the output's shape is not the input's times the "
                         "multiples")
    if b.tensors[x].quant is not None:
        T.same_quant(b, i, x, y)
    return Op(f"tile_{i}", "tile", (x,), (y,), {"reps": tuple(reps[1:])}, b.r.op_name(i))


class Tile(OpKind):
    name = "tile"
    summary = "a tensor repeated along its axes [reps]"
    tflite = {"TILE": _tflite}
    tflite_int16 = frozenset(tflite)

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        x = value(op.inputs[0]).reshape(g.tensors[op.inputs[0]].shape)
        return np.tile(x, op.attrs["reps"]).astype(np.float64)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        shape = ctx.g.tensors[op.inputs[0]].shape
        parts = [([_copy.Part(r, None, 0)] if r > 1 else []) + [_copy.Part(n, q, 1)]
                 for q, (n, r) in enumerate(zip(shape, op.attrs["reps"]))]
        return _copy.render(ctx, i, op, op.inputs[0], op.outputs[0], parts, [0] * len(shape))

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        return OpCode(self.render_f32(ctx, i, op))  # type: ignore[arg-type]


KIND = Tile()
