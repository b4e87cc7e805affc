"""``pack``: tensors of one shape stacked along a new axis (TFLite PACK; Keras has no layer of
it), float32 and int8 alike (TFLite's int8 PACK keeps one quantization), on the copy kernel:
each input written into its slice of the output."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op
from armsim.ops import _copy
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Any:
    xs = [b.activation(i, k) for k in ins]
    o = b.r.options(i, "PackOptions")
    shape = b.tensors[xs[0]].shape
    axis = (o.Axis() if o is not None else 0) % (len(shape) + 2)
    if axis == 0:  # a time-major sequence [T, 1, ...]: stacked along the graph's first axis,
        # the file tensor kept as a view of that (Builder.views)
        rank = len(shape) + 2
        y = b.derived(f"{b.name(outs[0])}/stacked", xs[0], (len(xs), *shape), outs[0])
        b.views[outs[0]] = (y, (1, 0, *range(2, rank)))
        for x in xs:
            if b.tensors[x].quant is not None:
                T.same_quant(b, i, x, y)
        return [Op(f"pack_{i}", "pack", tuple(xs), (y,), {"axis": 0}, b.r.op_name(i))]
    y = b.activation(i, outs[0])
    if any(b.tensors[x].shape != shape for x in xs):
        raise ModelError(f"{b.where(i)}: inputs of different shapes")
    want = shape[:axis - 1] + (len(xs),) + shape[axis - 1:]
    if want != b.tensors[y].shape:
        raise ModelError(f"{b.where(i)}: output shape {list(b.tensors[y].shape)}, expected "
                         f"{list(want)}")
    for x in xs:
        if b.tensors[x].quant is not None:
            T.same_quant(b, i, x, y)
    return Op(f"pack_{i}", "pack", tuple(xs), (y,), {"axis": axis - 1}, b.r.op_name(i))


class Pack(OpKind):
    name = "pack"
    summary = "tensors of one shape stacked along a new axis [axis]"
    tflite = {"PACK": _tflite}
    tflite_int16 = frozenset(tflite)

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        xs = [value(n).reshape(g.tensors[n].shape) for n in op.inputs]
        return np.stack(xs, axis=op.attrs["axis"]).astype(np.float64)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        a = op.attrs["axis"]
        out = ctx.g.tensors[op.outputs[0]].shape
        block = tuple(1 if k == a else n for k, n in enumerate(out))
        # output axis k reads input axis k (before the new one) or k - 1 (after it)
        parts = [[_copy.Part(1, None, 0)] if k == a else [_copy.Part(n, k if k < a else k - 1, 1)]
                 for k, n in enumerate(block)]
        calls = []
        for j, x in enumerate(op.inputs):
            at = [j if k == a else 0 for k in range(len(out))]
            calls += _copy.render(ctx, i, op, x, op.outputs[0], parts,
                                  [0] * len(ctx.g.tensors[x].shape), f"_{j}", at, block)
        return calls

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        return OpCode(self.render_f32(ctx, i, op))  # type: ignore[arg-type]


KIND = Pack()
