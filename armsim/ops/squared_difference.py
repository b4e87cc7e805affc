"""``squared_difference``: ``(a - b) * (a - b)`` element-wise (TFLite SQUARED_DIFFERENCE, the
variance in a LayerNormalization), float32, operands broadcast by a ``broadcast`` op before
it; int8 is refused when the file is read."""

from __future__ import annotations

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _tflite as T
from armsim.ops.base import OpKind, Values
from armsim.ops.cgen import FloatContext, fold_f32


class SquaredDifference(OpKind):
    name = "squared_difference"
    summary = "(a - b) squared, element-wise (TFLite SQUARED_DIFFERENCE)"
    tflite = {"SQUARED_DIFFERENCE": T.binary("squared_difference", None)}
    tflite_float_only = frozenset({"SQUARED_DIFFERENCE"})

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        a, b = (value(t).astype(np.float64) for t in op.inputs)
        return (a - b) * (a - b)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_squared_difference_f32")


KIND = SquaredDifference()
