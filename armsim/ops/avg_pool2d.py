"""``avg_pool2d``: average pooling; 'same' divides by the valid cells (Keras
AveragePooling1D/2D and GlobalAveragePooling1D/2D; TFLite AVERAGE_POOL_2D)."""

from __future__ import annotations

import numpy as np

from armsim.graph import Graph, Op, dims4
from armsim.ops import _pool
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


class AvgPool2D(OpKind):
    name = "avg_pool2d"
    summary = "average pooling; 'same' divides by the valid cells [pool, strides, padding]"
    keras = {"AveragePooling2D": _pool.keras_local("avg_pool2d"),
             "AveragePooling1D": _pool.keras_local("avg_pool2d"),
             "GlobalAveragePooling2D": _pool.keras_global("avg_pool2d"),
             "GlobalAveragePooling1D": _pool.keras_global("avg_pool2d")}
    tflite = {"AVERAGE_POOL_2D": _pool.tflite("avg_pool2d")}
    tflite_int16 = frozenset({"AVERAGE_POOL_2D"})
    fusable = True
    int8_scratch = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return _pool.reference(g, op, value, "avg")

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return _pool.render_f32(ctx, i, op, "armsim_avg_pool2d_f32")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        _h, ow, c = dims4(ctx.g.tensors[op.outputs[0]].shape)
        return _pool.render_s8(ctx, i, op, "arm_avgpool_s8",
                               f"arm_avgpool_s8_get_buffer_size({ow}, {c})")


KIND = AvgPool2D()
