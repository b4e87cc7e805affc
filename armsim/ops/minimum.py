"""``minimum``: the element-wise minimum of its inputs (Keras Minimum), float32
graphs; more than two inputs fold left, pairwise."""

from __future__ import annotations

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops.base import OpKind, Values, fold_reference
from armsim.ops.cgen import FloatContext, fold_f32


class Minimum(OpKind):
    name = "minimum"
    summary = "element-wise minimum of its inputs (Keras Minimum)"
    keras = {"Minimum": K.elementwise("minimum", None)}
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return fold_reference(op, value, np.minimum)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_minimum_f32")


KIND = Minimum()
