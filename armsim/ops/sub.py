"""``sub``: the difference of two inputs (Keras Subtract; TFLite SUB, float32 and int8),
their shapes broadcast by a ``broadcast`` op before it; more than two inputs fold left,
pairwise.

int8: TFLite's reference SUB is its ADD with the second input's rescaled value subtracted
(both inputs rescaled to twice the larger input scale); CMSIS-NN's element-wise add with the
second input's multiplier negated computes exactly that (the requantization rounds half away
from zero, so it is odd in the multiplier)."""

from __future__ import annotations

import numpy as np

from armsim import quant as Q
from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values, fold_reference
from armsim.ops.cgen import FloatContext, Int8Context, fold_f32


class Sub(OpKind):
    name = "sub"
    summary = "difference of two inputs (Keras Subtract, TFLite SUB) [activation]"
    keras = {"Subtract": K.elementwise("sub", 2)}
    tflite = {"SUB": T.binary("sub", "SubOptions")}
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        return fold_reference(op, value, np.subtract)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_sub_f32")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        qo = ctx.quant(op.outputs[0])
        ap = Q.add_params(ctx.quant(op.inputs[0]), ctx.quant(op.inputs[1]), qo)
        lo, hi = Q.activation_range(op.activation, qo)
        n = ctx.g.tensors[op.outputs[0]].size
        return OpCode([
            f"ARMSIM_CHECK({i}, arm_elementwise_add_s8({ctx.ptr(op.inputs[0])}, "
            f"{ctx.ptr(op.inputs[1])}, {ap.input1_offset}, {ap.input1_multiplier}, "
            f"{ap.input1_shift}, {ap.input2_offset}, {-ap.input2_multiplier}, "
            f"{ap.input2_shift}, {ap.left_shift}, {ctx.ptr(op.outputs[0], const=False)}, "
            f"{ap.output_offset}, {ap.output_multiplier}, {ap.output_shift}, {lo}, {hi}, "
            f"{n}));"])


KIND = Sub()
