"""``mul``: element-wise product of two inputs of one shape (Keras Multiply; TFLite MUL, int8
and float32 graphs; a constant operand spelled out to the other's shape)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim import quant as Q
from armsim.errors import ModelError
from armsim.graph import LINEAR, Graph, Op
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context, fold_f32


def _keras(b: Any, layer: Any, ins: list[str], out_kt: Any) -> str:
    shapes = {b.tensors[i].shape for i in ins}
    if len(shapes) != 1 or len(ins) != 2:
        raise ModelError(f"{K.where(layer)}: {len(ins)} inputs of shapes {sorted(shapes)}; "
                         "armsim multiplies two inputs of one shape (no broadcasting yet)")
    out = b.activation_out(layer, K.shape(out_kt))
    b.ops.append(Op(layer.name, "mul", tuple(ins), (out,), {"activation": LINEAR}, layer.name))
    return out


class Mul(OpKind):
    name = "mul"
    summary = "element-wise product of two inputs [activation]"
    keras = {"Multiply": _keras}
    tflite = {"MUL": T.binary("mul", "MulOptions")}

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        a, b = (value(n).astype(np.float64) for n in op.inputs)
        return (a * b).astype(np.float32).astype(np.float64)  # one float32 product

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_mul_f32")

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
