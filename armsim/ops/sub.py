"""``sub``: the difference of two inputs (Keras Subtract; TFLite SUB, float32 and int8),
their shapes broadcast by a ``broadcast`` op before it; more than two inputs fold left,
pairwise.

int8: armsim's kernel on TFLite's reference SUB arithmetic (its ADD with the second input's
rescaled value subtracted). CMSIS-NN's add with the second multiplier negated is not the
same: its doubling multiply rounds halves up, so a negated multiplier rounds some values
one step otherwise (seen in a GRU's 1 - z)."""

from __future__ import annotations

import numpy as np

from armsim import quant as Q
from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values, fold_reference
from armsim.ops.cgen import FloatContext, Int8Context, fold_f32, sub_params_s8


class Sub(OpKind):
    name = "sub"
    summary = "difference of two inputs (Keras Subtract, TFLite SUB) [activation]"
    keras = {"Subtract": K.elementwise("sub", 2)}
    tflite = {"SUB": T.binary("sub", "SubOptions")}
    tflite_int16 = frozenset(tflite)
    tflite_s8_eval = {"SUB": lambda r, i, args: T.s8_add_sub(r, i, args, -1, "SubOptions")}
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return fold_reference(op, value, np.subtract)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_sub_f32")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        qo = ctx.quant(op.outputs[0])
        s16 = ctx.s16(op)
        ap = Q.add_params(ctx.quant(op.inputs[0]), ctx.quant(op.inputs[1]), qo,
                          ctx.g.tensors[op.inputs[0]].dtype)
        lo, hi = ctx.range(op)
        n = ctx.g.tensors[op.outputs[0]].size
        prm = sub_params_s8(ctx, i, ap, lo, hi)
        fn = "armsim_sub_s16" if s16 else "armsim_sub_s8"
        return OpCode([f"{fn}({ctx.ptr(op.inputs[0])}, {ctx.ptr(op.inputs[1])}, "
                       f"{n}, {prm}, {ctx.ptr(op.outputs[0], const=False)});"])


KIND = Sub()
