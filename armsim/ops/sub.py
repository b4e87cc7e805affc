"""``sub``: the difference of two inputs (Keras Subtract), float32 graphs; more than two
inputs fold left, pairwise."""

from __future__ import annotations

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops.base import OpKind, Values, fold_reference
from armsim.ops.cgen import FloatContext, fold_f32


class Sub(OpKind):
    name = "sub"
    summary = "difference of two inputs (Keras Subtract)"
    keras = {"Subtract": K.elementwise("sub", 2)}
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return fold_reference(op, value, np.subtract)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_sub_f32")


KIND = Sub()
