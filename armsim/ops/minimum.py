"""``minimum``: the element-wise minimum of its inputs (Keras Minimum; TFLite MINIMUM,
float32 and int8 on CMSIS-NN's ``arm_minimum_s8``), operands broadcast by a ``broadcast`` op
before it; more than two inputs fold left, pairwise (float32)."""

from __future__ import annotations

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values, fold_reference
from armsim.ops.cgen import FloatContext, Int8Context, fold_f32, minmax_s8


class Minimum(OpKind):
    name = "minimum"
    summary = "element-wise minimum of its inputs (Keras Minimum)"
    keras = {"Minimum": K.elementwise("minimum", None)}
    tflite = {"MINIMUM": T.binary("minimum", None, same_scale=True)}
    tflite_s8_eval = {"MINIMUM": lambda r, i, args: np.minimum(args[0], args[1])}  # one scale
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return fold_reference(op, value, np.minimum)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_minimum_f32")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        return OpCode(minmax_s8(ctx, i, op, "arm_minimum_s8"))


KIND = Minimum()
