"""``reduce_max``: the maximum over consecutive axes (TFLite REDUCE_MAX, int8 and float32
graphs; an int8 output keeps the input's quantization)."""

from __future__ import annotations

import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


class ReduceMax(OpKind):
    name = "reduce_max"
    summary = "maximum over consecutive axes [axes, outer, span, inner]"
    tflite = {"REDUCE_MAX": T.reduction("reduce_max", same_scale=True)}
    tflite_int16 = frozenset(tflite)

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        a = op.attrs
        x = value(op.inputs[0]).astype(np.float32).reshape(a["outer"], a["span"], a["inner"])
        r = np.max(x, axis=1)
        return r.reshape(g.tensors[op.outputs[0]].shape).astype(np.float64)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        a = op.attrs
        return [f"armsim_reduce_max_f32({ctx.ptr(op.inputs[0])}, {a['outer']}, {a['span']}, "
                f"{a['inner']}, {ctx.ptr(op.outputs[0], const=False)});"]

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        a = op.attrs
        fn = "armsim_reduce_max_s16" if ctx.s16(op) else "armsim_reduce_max_s8"
        return OpCode([f"{fn}({ctx.ptr(op.inputs[0])}, {a['outer']}, "
                       f"{a['span']}, {a['inner']}, {ctx.ptr(op.outputs[0], const=False)});"])


KIND = ReduceMax()
