"""``add``: element-wise sum of two or more inputs of one shape (Keras Add; TFLite ADD,
a constant operand spelled out to the other's shape)."""

from __future__ import annotations


import numpy as np

from armsim import quant as Q
from armsim.graph import Graph, Op
from armsim.ops import _keras as K
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context, fold_f32


class Add(OpKind):
    name = "add"
    summary = "element-wise sum of its inputs [activation]"
    keras = {"Add": K.elementwise("add")}
    tflite = {"ADD": T.binary("add", "AddOptions")}
    tflite_int16 = frozenset({"ADD"})
    tflite_s8_eval = {"ADD": lambda r, i, args: T.s8_add_sub(r, i, args, 1, "AddOptions")}
    fusable = True

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        y = value(op.inputs[0]).astype(np.float64)
        for name in op.inputs[1:]:  # each partial sum rounded to float32, as the kernel does
            y = (y + value(name).astype(np.float64)).astype(np.float32).astype(np.float64)
        return y

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        return fold_f32(ctx, i, op, "armsim_add_f32")

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        qo = ctx.quant(op.outputs[0])
        s16 = ctx.s16(op)
        ap = Q.add_params(ctx.quant(op.inputs[0]), ctx.quant(op.inputs[1]), qo,
                          ctx.g.tensors[op.inputs[0]].dtype)
        lo, hi = ctx.range(op)
        n = ctx.g.tensors[op.outputs[0]].size
        return OpCode([
            f"ARMSIM_CHECK({i}, arm_elementwise_add_{'s16' if s16 else 's8'}("
            f"{ctx.ptr(op.inputs[0])}, "
            f"{ctx.ptr(op.inputs[1])}, {ap.input1_offset}, {ap.input1_multiplier}, "
            f"{ap.input1_shift}, {ap.input2_offset}, {ap.input2_multiplier}, {ap.input2_shift}, "
            f"{ap.left_shift}, {ctx.ptr(op.outputs[0], const=False)}, {ap.output_offset}, "
            f"{ap.output_multiplier}, {ap.output_shift}, {lo}, {hi}, {n}));"])


KIND = Add()
