"""``broadcast``: an operand spelled out to a bigger shape by NumPy's broadcasting rules
(TFLite BROADCAST_TO; inserted before an element-wise op whose operands differ in shape: a
squeeze-and-excite block's (1, 1, C) scale times an (H, W, C) map), float32 and int8 alike
(a copy: the int8 values keep their quantization)."""

from __future__ import annotations

from typing import Any

import numpy as np

from armsim.errors import ModelError
from armsim.graph import Graph, Op, Tensor
from armsim.ops import _copy
from armsim.ops import _tflite as T
from armsim.ops.base import OpCode, OpKind, Values
from armsim.ops.cgen import FloatContext, Int8Context


def _tflite(b: Any, i: int, ins: list[int], outs: list[int]) -> Op:
    x = b.activation(i, ins[0])
    y = b.activation(i, outs[0])
    _copy.broadcast_shape([b.tensors[x].shape, b.tensors[y].shape], b.where(i))
    if b.tensors[x].quant is not None:
        T.same_quant(b, i, x, y)  # a copy: TFLite's int8 BROADCAST_TO keeps the scale
    return Op(f"broadcast_{i}", "broadcast", (x,), (y,), {}, b.r.op_name(i))


def _fill(b: Any, i: int, ins: list[int], outs: list[int]) -> list[Op]:
    """FILL (a recurrent layer's zero initial state): no op, a constant tensor of the output's
    shape holding the value (its dims folded from shape arithmetic)."""
    dims = b.fold(ins[0])
    value = b.r.data(ins[1])
    if dims is None or value is None:
        raise ModelError(f"{b.where(i)}: fills a shape or with a value computed at run time")
    dims = [int(d) for d in np.asarray(dims).reshape(-1)]
    if not dims or dims[0] != 1:
        raise ModelError(f"{b.where(i)}: fills a batch of {dims[:1]}; armsim runs batch 1")
    name = b.name(outs[0])
    dtype = b.act_dtype
    q = None if b.float32 else b.r.quant(outs[0])
    b.tensors[name] = Tensor(name, tuple(dims[1:]), dtype, "weight",
                             data=np.full(dims[1:], np.asarray(value).reshape(-1)[0], dtype),
                             quant=q, index=outs[0])
    return []


class Broadcast(OpKind):
    name = "broadcast"
    summary = "an operand spelled out to a bigger shape (NumPy broadcasting)"
    tflite = {"BROADCAST_TO": _tflite, "FILL": _fill}
    tflite_int16 = frozenset(tflite)

    def reference(self, g: Graph, op: Op, value: Values) -> np.ndarray:
        x = value(op.inputs[0]).reshape(g.tensors[op.inputs[0]].shape)
        return np.broadcast_to(x, g.tensors[op.outputs[0]].shape).astype(np.float64)

    def _parts(self, g: Graph, op: Op) -> list[list[_copy.Part]]:
        return _copy.broadcast_parts(g.tensors[op.inputs[0]].shape,
                                     g.tensors[op.outputs[0]].shape)

    def render_f32(self, ctx: FloatContext, i: int, op: Op) -> list[str]:
        shape = ctx.g.tensors[op.inputs[0]].shape
        return _copy.render(ctx, i, op, op.inputs[0], op.outputs[0], self._parts(ctx.g, op),
                            [0] * len(shape))

    def render_s8(self, ctx: Int8Context, i: int, op: Op) -> OpCode:
        return OpCode(self.render_f32(ctx, i, op))  # type: ignore[arg-type]


KIND = Broadcast()
