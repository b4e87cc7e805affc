"""``max_pool2d``: max pooling (Keras MaxPooling1D/2D and GlobalMaxPooling1D/2D; TFLite
MAX_POOL_2D)."""

from __future__ import annotations

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _pool
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


class MaxPool2D(OpKind):
    name = "max_pool2d"
    summary = "max pooling [pool, strides, padding]"
    keras = {"MaxPooling2D": _pool.keras_local("max_pool2d"),
             "MaxPooling1D": _pool.keras_local("max_pool2d"),
             "GlobalMaxPooling2D": _pool.keras_global("max_pool2d"),
             "GlobalMaxPooling1D": _pool.keras_global("max_pool2d")}
    tflite = {"MAX_POOL_2D": _pool.tflite("max_pool2d")}
    tflite_int16 = frozenset({"MAX_POOL_2D"})
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return _pool.reference(g, op, value, "max")

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return _pool.render_f32(ctx, i, op, "armsim_max_pool2d_f32")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        return _pool.render_s8(ctx, i, op, "arm_max_pool_s8", None)


KIND = MaxPool2D()
