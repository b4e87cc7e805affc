"""``mean``: the mean over consecutive axes (TFLite MEAN, int8 graphs), TFLite's
QuantizedMeanOrSum arithmetic in armsim's s8 kernel."""

from __future__ import annotations

from armsim import quant as Q
from armsim.graph import Op
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind
from armsim.ops.cgen import Int8Context


class Mean(OpKind):
    name = "mean"
    summary = "mean over consecutive axes [axes, outer, span, inner] (int8 graphs)"
    tflite = {"MEAN": T.reduction("mean", same_scale=False)}

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        a = op.attrs
        qi, qo = ctx.quant(op.inputs[0]), ctx.quant(op.outputs[0])
        m, s = Q.mean_params(qi, qo, a["span"])
        return OpCode([f"armsim_mean_s8({ctx.ptr(op.inputs[0])}, {a['outer']}, {a['span']}, "
                       f"{a['inner']}, {qi.zero_point}, {qo.zero_point}, {m}, {s}, "
                       f"{ctx.ptr(op.outputs[0], const=False)});"])


KIND = Mean()
