"""``reduce_max``: the maximum over consecutive axes (TFLite REDUCE_MAX, int8 graphs; the
output keeps the input's quantization)."""

from __future__ import annotations

from armsim.graph import Op
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind
from armsim.ops.cgen import Int8Context


class ReduceMax(OpKind):
    name = "reduce_max"
    summary = "maximum over consecutive axes [axes, outer, span, inner] (int8 graphs)"
    tflite = {"REDUCE_MAX": T.reduction("reduce_max", same_scale=True)}

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        a = op.attrs
        return OpCode([f"armsim_reduce_max_s8({ctx.ptr(op.inputs[0])}, {a['outer']}, "
                       f"{a['span']}, {a['inner']}, {ctx.ptr(op.outputs[0], const=False)});"])


KIND = ReduceMax()
