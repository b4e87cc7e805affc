"""``average``: the element-wise mean of two or more inputs of one shape (Keras Average),
float32 graphs: the inputs summed left to right, then divided by their count, as Keras does."""

from __future__ import annotations

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops.base import OpKind, Values, fold_reference
from armsim.ops.cgen import FloatContext, f32, fold_f32


class Average(OpKind):
    name = "average"
    summary = "element-wise mean of its inputs (Keras Average)"
    keras = {"Average": K.elementwise("average")}
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        total = fold_reference(op, value, np.add).astype(np.float32)
        return (total / np.float32(len(op.inputs))).astype(np.float64)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        # the sum unclamped, then the division (and the op's clamp) in place
        plain = Op(op.name, op.kind, op.inputs, op.outputs, {}, op.layer)
        n = ctx.g.tensors[op.outputs[0]].size
        out = ctx.ptr(op.outputs[0], const=False)
        cl = ctx.static("armsim_clamp", f"op{i}_avg_clamp", ctx.clamp(op))
        return fold_f32(ctx, i, plain, "armsim_add_f32") + [
            f"armsim_div_f32({cl}, {out}, {n}, {f32(float(len(op.inputs)))}, {out});"]


KIND = Average()
