"""``mul``: element-wise product of two inputs of one shape (TFLite MUL, int8 graphs; a
constant operand spelled out to the other's shape)."""

from __future__ import annotations

from armsim import quant as Q
from armsim.graph import Op
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind
from armsim.ops.cgen import Int8Context


class Mul(OpKind):
    name = "mul"
    summary = "element-wise product of two inputs [activation] (int8 graphs)"
    tflite = {"MUL": T.binary("mul", "MulOptions")}

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        qa, qb, qo = ctx.quant(op.inputs[0]), ctx.quant(op.inputs[1]), ctx.quant(op.outputs[0])
        m, s = Q.mul_params(qa, qb, qo)
        lo, hi = Q.activation_range(op.activation, qo)
        n = ctx.g.tensors[op.outputs[0]].size
        return OpCode([
            f"ARMSIM_CHECK({i}, arm_elementwise_mul_s8({ctx.ptr(op.inputs[0])}, "
            f"{ctx.ptr(op.inputs[1])}, {-qa.zero_point}, {-qb.zero_point}, "
            f"{ctx.ptr(op.outputs[0], const=False)}, {qo.zero_point}, {m}, {s}, "
            f"{lo}, {hi}, {n}));"])


KIND = Mul()
