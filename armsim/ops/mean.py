"""``mean``: the mean over consecutive axes (TFLite MEAN, int8 and float32 graphs), TFLite's
QuantizedMeanOrSum arithmetic in armsim's s8 kernel."""

from __future__ import annotations

from armsim import quant as Q
import numpy as np

from armsim.graph import Graph, Op
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


class Mean(OpKind):
    name = "mean"
    summary = "mean over consecutive axes [axes, outer, span, inner]"
    tflite = {"MEAN": T.reduction("mean", same_scale=False)}
    tflite_int16 = frozenset(tflite)

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        a = op.attrs
        x = value(op.inputs[0]).astype(np.float32).reshape(a["outer"], a["span"], a["inner"])
        r = np.mean(x, axis=1, dtype=np.float32)
        return r.reshape(g.tensors[op.outputs[0]].shape).astype(np.float64)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        a = op.attrs
        return [f"armsim_mean_f32({ctx.ptr(op.inputs[0])}, {a['outer']}, {a['span']}, "
                f"{a['inner']}, {ctx.ptr(op.outputs[0], const=False)});"]

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        a = op.attrs
        qi, qo = ctx.quant(op.inputs[0]), ctx.quant(op.outputs[0])
        m, s = Q.mean_params(qi, qo, a["span"])
        fn = "armsim_mean_s16" if ctx.s16(op) else "armsim_mean_s8"
        return OpCode([f"{fn}({ctx.ptr(op.inputs[0])}, {a['outer']}, {a['span']}, "
                       f"{a['inner']}, {qi.zero_point}, {qo.zero_point}, {m}, {s}, "
                       f"{ctx.ptr(op.outputs[0], const=False)});"])


KIND = Mean()
