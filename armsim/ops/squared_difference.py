"""``squared_difference``: ``(a - b) * (a - b)`` element-wise (TFLite SQUARED_DIFFERENCE, the
variance in a LayerNormalization), float32 and int8 (armsim's kernel on TFLite's reference
arithmetic), operands broadcast by a ``broadcast`` op before it."""

from __future__ import annotations

import numpy as np

from armsim import quant as Q
from armsim.graph import Graph, Op
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context, fold_f32, sub_params_s8

#: TFLite's left shift of both int8 inputs before rescaling (squared_difference.cc).
LEFT_SHIFT = 7


def params(a: Q.Quant, b: Q.Quant, out: Q.Quant) -> Q.AddParams:
    """TFLite's PrepareQuantized: both inputs rescaled to twice the larger scale; the
    squared difference by (2 max)^2 / (2^14 s_out)."""
    twice_max = 2.0 * max(a.scale, b.scale)
    m1 = Q.quantize_multiplier(a.scale / twice_max)
    m2 = Q.quantize_multiplier(b.scale / twice_max)
    mo = Q.quantize_multiplier(twice_max * twice_max /
                               float((1 << (2 * LEFT_SHIFT)) * np.float32(out.scale)))
    return Q.AddParams(-a.zero_point, m1[0], m1[1], -b.zero_point, m2[0], m2[1], LEFT_SHIFT,
                       out.zero_point, mo[0], mo[1])


class SquaredDifference(OpKind):
    name = "squared_difference"
    summary = "(a - b) squared, element-wise (TFLite SQUARED_DIFFERENCE)"
    tflite = {"SQUARED_DIFFERENCE": T.binary("squared_difference", None)}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        a, b = (value(t).astype(np.float64) for t in op.inputs)
        return (a - b) * (a - b)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_squared_difference_f32")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        qo = ctx.quant(op.outputs[0])
        p = params(ctx.quant(op.inputs[0]), ctx.quant(op.inputs[1]), qo)
        n = ctx.g.tensors[op.outputs[0]].size
        prm = sub_params_s8(ctx, i, p, Q.QMIN, Q.QMAX)
        return OpCode([f"armsim_squared_difference_s8({ctx.ptr(op.inputs[0])}, "
                       f"{ctx.ptr(op.inputs[1])}, {n}, {prm}, "
                       f"{ctx.ptr(op.outputs[0], const=False)});"])


KIND = SquaredDifference()
