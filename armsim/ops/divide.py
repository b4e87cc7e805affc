"""``divide``: the element-wise quotient of two tensors (TFLite DIV between activations, a
keras.ops ``x / y`` between two tensors: scale_shift.py reads those), float32, operands broadcast by a ``broadcast`` op before it. A division
by a constant is a ``scale_shift``; int8 DIV is refused when the file is read."""

from __future__ import annotations

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _tflite as T
from armsim.ops.base import OpKind, Values, fold_reference
from armsim.ops.cgen import FloatContext, fold_f32


class Divide(OpKind):
    name = "divide"
    summary = "element-wise quotient of two tensors (TFLite DIV) [activation]"
    tflite = {"DIV": T.binary("divide", "DivOptions")}
    tflite_float_only = frozenset({"DIV"})
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return fold_reference(op, value, np.divide)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_divide_f32")


KIND = Divide()
