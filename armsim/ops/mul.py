"""``mul``: element-wise product of two inputs of one shape (Keras Multiply; TFLite MUL, int8
and float32 graphs; a constant operand spelled out to the other's shape)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim import quant as Q
from armsim.fixedpoint import rescale
from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context, fold_f32


def _mul_s8(r: Any, i: int, args: list[np.ndarray]) -> np.ndarray:
    """TFLite's int8 MUL: the product of the offset inputs rescaled by s_a * s_b / s_out."""
    (qa, qb), qo = T.s8_quants(r, i)
    m, s = Q.mul_params(qa, qb, qo)
    y = rescale((args[0] - qa.zero_point) * (args[1] - qb.zero_point), m, s) + qo.zero_point
    return T.s8_clamp(r, i, "MulOptions", y)


class Mul(OpKind):
    name = "mul"
    summary = "element-wise product of two inputs [activation]"
    keras = {"Multiply": K.elementwise("mul", 2)}
    tflite = {"MUL": T.binary("mul", "MulOptions")}
    tflite_int16 = frozenset({"MUL"})
    tflite_s8_eval = {"MUL": _mul_s8}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        a, b = (value(n).astype(np.float64) for n in op.inputs)
        return (a * b).astype(np.float32).astype(np.float64)  # one float32 product

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_mul_f32")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        qa, qb, qo = ctx.quant(op.inputs[0]), ctx.quant(op.inputs[1]), ctx.quant(op.outputs[0])
        m, s = Q.mul_params(qa, qb, qo)
        lo, hi = ctx.range(op)
        n = ctx.g.tensors[op.outputs[0]].size
        return OpCode([
            f"ARMSIM_CHECK({i}, arm_elementwise_mul_{'s16' if ctx.s16(op) else 's8'}("
            f"{ctx.ptr(op.inputs[0])}, "
            f"{ctx.ptr(op.inputs[1])}, {-qa.zero_point}, {-qb.zero_point}, "
            f"{ctx.ptr(op.outputs[0], const=False)}, {qo.zero_point}, {m}, {s}, "
            f"{lo}, {hi}, {n}));"])


KIND = Mul()
